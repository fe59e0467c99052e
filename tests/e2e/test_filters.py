"""List filters through the stock cinder client: list-filters (3.33), --filters with bootable,
like filters (name~, 3.34) and time comparisons (3.60), set-bootable; and the resource filters
file, which limits a non-admin's filters (from 3.31) and leaves an admin's alone."""
import pytest

from conftest import table_rows


def ids_listed(service, *args):
    return {r["ID"] for r in table_rows(service.cinder(*args).stdout)}


@pytest.fixture(scope="module")
def vols(service):
    made = {}
    for name in ("web-1", "web-2", "db-1"):
        made[name] = service.cinder_table("create", "--name", name, "1")["id"]
    for vol_id in made.values():
        service.wait_status(vol_id, ["available"])
    yield made
    for vol_id in made.values():
        service.cinder("delete", vol_id)
    for vol_id in made.values():
        service.wait_status(vol_id, ["deleted"])


def test_list_filters_shows_cinders_default_filters(service):
    rows = table_rows(service.cinder("--os-volume-api-version", "3.33", "list-filters").stdout)
    by_resource = {r["Resource"]: r["Filters"] for r in rows}
    assert set(by_resource) == {"volume", "backup", "snapshot", "group", "group_snapshot", "attachment", "message",
                                "pool", "volume_type"}
    assert "bootable" in by_resource["volume"] and "created_at" in by_resource["volume"]
    one = table_rows(service.cinder("--os-volume-api-version", "3.33", "list-filters", "--resource", "backup").stdout)
    assert [r["Resource"] for r in one] == ["backup"] and "volume_id" in one[0]["Filters"]
    code, body, _ = service.request("GET", service.url("/resource_filters?resource=snapshot"), version="volume 3.33")
    assert code == 200 and body == {"resource_filters": [
        {"filters": ["name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"],
         "resource": "snapshot"}]}
    code, _, _ = service.request("GET", service.url("/resource_filters"), version="volume 3.32")
    assert code == 404


def test_set_bootable_and_the_bootable_filter(service, vols):
    v33 = ("--os-volume-api-version", "3.33")
    service.cinder("set-bootable", vols["web-1"], "true")
    assert service.cinder_table("show", vols["web-1"])["bootable"] == "true"
    assert ids_listed(service, *v33, "list", "--filters", "bootable=true") == {vols["web-1"]}
    assert ids_listed(service, *v33, "list", "--filters", "bootable=false") == {vols["web-2"], vols["db-1"]}
    service.cinder("set-bootable", vols["web-1"], "false")
    assert ids_listed(service, *v33, "list", "--filters", "bootable=true") == set()
    # Bad values: the client refuses some itself; the API answers the rest with Cinder's errors.
    code, body, _ = service.request("POST", service.url(f"/volumes/{vols['web-1']}/action"),
                                    {"os-set_bootable": {"bootable": "maybe"}})
    assert code == 400 and "Invalid input for field/attribute bootable" in body["badRequest"]["message"]
    code, body, _ = service.request("POST", service.url(f"/volumes/{vols['web-1']}/action"), {"os-set_bootable": {}})
    assert code == 400 and body["badRequest"]["message"] == (
        "Invalid input for field/attribute os-set_bootable. Value: {}. 'bootable' is a required property")
    res = service.cinder("set-bootable", "no-such-volume", "true", check=False)
    assert res.returncode != 0 and "No volume with a name or ID of 'no-such-volume' exists." in res.stderr
    res = service.cinder(*v33, "list", "--filters", "bootable=maybe", check=False)
    assert res.returncode != 0 and "Invalid input received: 'bootable = maybe' (HTTP 400)" in res.stderr


def test_like_filters_from_3_34(service, vols):
    v34 = ("--os-volume-api-version", "3.34")
    assert ids_listed(service, *v34, "list", "--filters", "name~=web") == {vols["web-1"], vols["web-2"]}
    assert ids_listed(service, *v34, "list", "--filters", "name~=DB") == {vols["db-1"]}  # case-insensitive
    # Before 3.34 a ~ key is no filter.
    res = service.cinder("--os-volume-api-version", "3.33", "list", "--filters", "name~=web", check=False)
    assert res.returncode != 0 and "Invalid filters name~ are found in query options." in res.stderr


def test_time_comparison_filters_at_3_60(service, vols):
    v60 = ("--os-volume-api-version", "3.60")
    before = "2000-01-01T00:00:00"
    assert ids_listed(service, *v60, "list", "--filters", f"created_at=gt:{before}") == set(vols.values())
    assert ids_listed(service, *v60, "list", "--filters", f"created_at=lt:{before}") == set()
    at = service.request("GET", service.url(f"/volumes/{vols['db-1']}"))[1]["volume"]["created_at"]
    assert ids_listed(service, *v60, "list", "--filters", f"created_at=eq:{at}") == {vols["db-1"]}
    # Comparisons of one field are ORed (Cinder's _filter_time_comparison).
    assert ids_listed(service, *v60, "list", "--filters", f"created_at=lt:{before},gte:{at}") >= {vols["db-1"]}
    res = service.cinder(*v60, "list", "--filters", "created_at=after:2026-01-01", check=False)
    assert res.returncode != 0 and "Invalid after operator (HTTP 400)" in res.stderr
    res = service.cinder(*v60, "list", "--filters", "updated_at=gt:yesterday", check=False)
    assert res.returncode != 0 and "Invalid yesterday value (HTTP 400)" in res.stderr
    res = service.cinder(*v60, "list", "--filters", "bogus=1", check=False)
    assert res.returncode != 0 and "Invalid filters bogus are found in query options." in res.stderr


def test_snapshot_filters(service, vols):
    snap = service.cinder_table("snapshot-create", "--name", "Nightly", vols["db-1"])["id"]
    service.wait_snapshot(snap, ["available"])
    try:
        out = service.cinder("--os-volume-api-version", "3.34", "snapshot-list", "--filters", "name~=night").stdout
        assert snap in out
        out = service.cinder("--os-volume-api-version", "3.34", "snapshot-list", "--filters",
                             "availability_zone=elsewhere").stdout
        assert snap not in out
        out = service.cinder("--os-volume-api-version", "3.34", "snapshot-list", "--filters",
                             "availability_zone=nova").stdout
        assert snap in out
    finally:
        service.cinder("snapshot-delete", snap)
        service.wait_snapshot(snap, ["deleted"])


def test_consumes_quota_filter_from_3_65(service, vols):
    """Every volume made through the API counts against its quota: consumes_quota=true lists
    them, false none; a snapshot likewise; a value that is no boolean is 400."""
    v65 = ("--os-volume-api-version", "3.65")
    mine = set(vols.values())
    assert mine <= ids_listed(service, *v65, "list", "--filters", "consumes_quota=true")
    assert ids_listed(service, *v65, "list", "--filters", "consumes_quota=false") == set()
    res = service.cinder(*v65, "list", "--filters", "consumes_quota=maybe", check=False)
    assert res.returncode != 0 and "Value 'maybe' for 'consumes_quota' is not a boolean. (HTTP 400)" in res.stderr
    snap = service.cinder_table("snapshot-create", "--name", "quota-snap", vols["db-1"])["id"]
    try:
        service.wait_snapshot(snap, ["available"])
        assert snap in ids_listed(service, *v65, "snapshot-list", "--filters", "consumes_quota=true")
        assert snap not in ids_listed(service, *v65, "snapshot-list", "--filters", "consumes_quota=false")
        shown = service.cinder_table(*v65, "snapshot-show", snap)
        assert shown["consumes_quota"] == "True"
    finally:
        service.cinder("snapshot-delete", snap)
        service.wait_snapshot(snap, ["deleted"])


def test_metadata_filter_matches_admin_metadata(service, vols):
    """Cinder's metadata filter matches a volume's metadata or its admin metadata: readonly-mode
    sets readonly=True, which `list --metadata readonly=True` then finds."""
    assert vols["web-2"] not in ids_listed(service, "list", "--metadata", "readonly=True")
    service.cinder("readonly-mode-update", vols["web-2"], "true")
    try:
        assert ids_listed(service, "list", "--metadata", "readonly=True") == {vols["web-2"]}
        service.cinder("metadata", vols["db-1"], "set", "readonly=True")
        assert ids_listed(service, "list", "--metadata", "readonly=True") == {vols["web-2"], vols["db-1"]}
    finally:
        service.cinder("readonly-mode-update", vols["web-2"], "false")
        service.cinder("metadata", vols["db-1"], "unset", "readonly")
    assert vols["web-2"] in ids_listed(service, "list", "--metadata", "readonly=False")
    assert ids_listed(service, "list", "--metadata", "readonly=True") == set()


def test_a_non_admin_may_use_only_the_configured_filters(tmp_path_factory):
    """auth_strategy = keystone and an operator's resource_query_filters_file: a member of a
    project gets 400 for a filter the file does not enable (from 3.31), an admin does not."""
    from conftest import start_service, stop_service
    from test_identity import IDENTITY_CONF, bootstrap, cinder_cli, openstack

    state = tmp_path_factory.mktemp("filters-ks")
    filters = state / "filters.json"
    filters.write_text('{"volume": ["name~", "bootable"], "snapshot": ["status"], "backup": ["status"], '
                       '"message": ["event_id"], "attachment": ["volume_id"], '
                       '"volume_type": ["is_public", "extra_specs"]}')
    proc, ks = start_service(state, extra=f"resource_query_filters_file = {filters}\n" + IDENTITY_CONF,
                             log_file=str(state / "service.log"))
    try:
        bootstrap(ks)
        openstack(ks, "project", "create", "--domain", "default", "proj-f")
        openstack(ks, "user", "create", "--domain", "default", "--project", "proj-f", "--password", "f-pw", "fay")
        openstack(ks, "role", "add", "--project", "proj-f", "--user", "fay", "member")
        fay = {"user": "fay", "password": "f-pw", "project": "proj-f"}
        made = cinder_cli(ks, "create", "--name", "fay-web", "1", **fay).stdout
        assert "fay-web" in made
        listed = cinder_cli(ks, "--os-volume-api-version", "3.34", "list", "--filters", "name~=web", **fay).stdout
        assert "fay-web" in listed
        assert "fay-web" in cinder_cli(ks, "--os-volume-api-version", "3.34", "list", "--filters", "bootable=false",
                                       **fay).stdout
        res = cinder_cli(ks, "--os-volume-api-version", "3.34", "list", "--filters", "status=available", check=False,
                         **fay)
        assert res.returncode != 0 and "Invalid filters status are found in query options. (HTTP 400)" in res.stderr
        res = cinder_cli(ks, "--os-volume-api-version", "3.33", "list", "--filters", "name=fay-web", check=False,
                         **fay)
        assert res.returncode != 0 and "Invalid filters name are found in query options." in res.stderr
        # Backups, messages and attachments follow the file too (Cinder's general filtering).
        for command, good, bad in (("backup-list", "status=available", "name=x"),
                                   ("message-list", "event_id=VOLUME_000001", "resource_type=VOLUME"),
                                   ("attachment-list", "volume_id=00000000-0000-0000-0000-000000000000",
                                    "status=attached")):
            cinder_cli(ks, "--os-volume-api-version", "3.33", command, "--filters", good, **fay)
            res = cinder_cli(ks, "--os-volume-api-version", "3.33", command, "--filters", bad, check=False, **fay)
            key = bad.split("=")[0]
            assert res.returncode != 0 and f"Invalid filters {key} are found in query options." in res.stderr, \
                (command, res.stderr)
        # Volume types (3.52): a member filtering on an extra spec it may not read finds nothing
        # (Cinder's rule: dropping the filter would list types that may not match); a visible
        # one filters; another filter is refused.
        cinder_cli(ks, "type-create", "gold")
        cinder_cli(ks, "type-key", "gold", "set", "tier=1", "multiattach=<is> True")
        v352 = ("--os-volume-api-version", "3.52")
        assert "gold" in cinder_cli(ks, *v352, "type-list", "--filters", "extra_specs={tier:1}").stdout
        assert "gold" not in cinder_cli(ks, *v352, "type-list", "--filters", "extra_specs={tier:1}", **fay).stdout
        assert "gold" in cinder_cli(ks, *v352, "type-list", "--filters", "extra_specs={multiattach:<is> True}",
                                    **fay).stdout
        res = cinder_cli(ks, *v352, "type-list", "--filters", "name=gold", check=False, **fay)
        assert res.returncode != 0 and "Invalid filters name are found in query options." in res.stderr
        # The admin is not limited by the file.
        cinder_cli(ks, "--os-volume-api-version", "3.34", "list", "--all-tenants", "--filters", "status=available")
        cinder_cli(ks, "--os-volume-api-version", "3.33", "backup-list", "--filters", "name=x")
        # The member sees the file's filters.
        shown = cinder_cli(ks, "--os-volume-api-version", "3.33", "list-filters", **fay).stdout
        assert "name~" in shown and "bootable" in shown and "group_id" not in shown
    finally:
        stop_service(proc)
