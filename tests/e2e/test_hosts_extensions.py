"""GET /extensions (the stock client's list-extensions) and os-hosts (Cinder's hosts extension:
GET /os-hosts, GET /os-hosts/{host}). The stock cinder client has no host commands any more, so
os-hosts is driven over HTTP."""
import pytest

from conftest import start_service, stop_service, table_rows


@pytest.fixture(scope="module")
def hosted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hosts")
    proc, svc = start_service(tmp, extra="host = e2ehost\nreport_interval = 1\nstorage_availability_zone = az-e2e\n")
    yield svc
    stop_service(proc)


def test_list_extensions_through_the_client(hosted):
    rows = table_rows(hosted.cinder("list-extensions").stdout)
    by_alias = {r["Alias"]: r for r in rows}
    assert len(rows) == 32
    assert by_alias["os-vol-image-meta"] == {"Name": "VolumeImageMetadata",
                                             "Summary": "Show image metadata associated with the volume.",
                                             "Alias": "os-vol-image-meta", "Updated": "2012-12-07T00:00:00+00:00"}
    assert by_alias["encryption"]["Name"] == "VolumeTypeEncryption"
    assert by_alias["os-hosts"]["Summary"] == "Admin-only host administration."
    code, body, _ = hosted.request("GET", hosted.url("/extensions"))
    assert code == 200 and body["extensions"][0] == {
        "alias": "os-hosts", "description": "Admin-only host administration.", "links": [], "name": "Hosts",
        "updated": "2011-06-29T00:00:00+00:00"}
    code, body, _ = hosted.request("GET", hosted.url("/extensions/qos-specs"))
    assert (code, body["extension"]["name"]) == (200, "Qos_specs_manage")
    code, body, _ = hosted.request("GET", hosted.url("/extensions/nope"))
    assert (code, body["itemNotFound"]["message"]) == (404, "The resource could not be found.")
    # Without the project in the URL (3.67), as every route.
    code, body, _ = hosted.request("GET", "/v3/extensions")
    assert code == 200 and len(body["extensions"]) == 32


def test_os_hosts_lists_the_enabled_services(hosted):
    code, body, _ = hosted.request("GET", hosted.url("/os-hosts"))
    assert code == 200
    by_service = {h["service"]: h for h in body["hosts"]}
    vol = by_service["cinder-volume"]
    assert vol["host_name"] == "e2ehost@file" and vol["zone"] == "az-e2e"
    assert vol["service-status"] == "available" and vol["service-state"] == "enabled"
    assert vol["last-update"] is not None
    assert by_service["cinder-scheduler"]["host_name"] == "e2ehost"
    assert set(vol) == {"host_name", "service", "zone", "service-status", "service-state", "last-update"}
    code, body, _ = hosted.request("GET", hosted.url("/os-hosts?zone=az-e2e"))
    assert "cinder-volume" in {h["service"] for h in body["hosts"]}
    code, body, _ = hosted.request("GET", hosted.url("/os-hosts?zone=elsewhere"))
    assert (code, body) == (200, {"hosts": []})
    # A disabled service is not listed (Cinder lists those with disabled=False).
    hosted.cinder("service-disable", "e2ehost@file", "cinder-volume")
    try:
        code, body, _ = hosted.request("GET", hosted.url("/os-hosts"))
        assert "cinder-volume" not in {h["service"] for h in body["hosts"]}
    finally:
        hosted.cinder("service-enable", "e2ehost@file", "cinder-volume")


def test_os_hosts_shows_a_volume_hosts_usage(hosted):
    def usage(host):
        code, body, _ = hosted.request("GET", hosted.url(f"/os-hosts/{host}"))
        assert code == 200, body
        return [r["resource"] for r in body["host"]]

    assert usage("e2ehost@file") == [{"host": "e2ehost@file", "project": "(total)", "volume_count": "0",
                                      "total_volume_gb": "0", "snapshot_count": "0", "total_snapshot_gb": "0"}]
    made = []
    for size in ("1", "2"):
        made.append(hosted.cinder_table("create", size)["id"])
    for vol in made:
        hosted.wait_status(vol, ["available"])
    snap = hosted.cinder_table("snapshot-create", made[1])["id"]
    hosted.wait_snapshot(snap, ["available"])
    from conftest import PROJECT
    resources = usage("e2ehost@file")
    assert resources == [
        {"host": "e2ehost@file", "project": "(total)", "volume_count": "2", "total_volume_gb": "3",
         "snapshot_count": "1", "total_snapshot_gb": "2"},
        {"host": "e2ehost@file", "project": PROJECT, "volume_count": "2", "total_volume_gb": "3",
         "snapshot_count": "1", "total_snapshot_gb": "2"}]
    # The host alone finds its backend's service, as Cinder's host match does.
    assert usage("e2ehost")[0]["volume_count"] == "2"
    code, body, _ = hosted.request("GET", hosted.url("/os-hosts/nohost"))
    assert (code, body["itemNotFound"]["message"]) == (404, "Service cinder-volume could not be found on host nohost.")
    hosted.cinder("snapshot-delete", snap)
    hosted.wait_snapshot(snap, ["deleted"])
    for vol in made:
        hosted.cinder("delete", vol)
    for vol in made:
        hosted.wait_status(vol, ["deleted"])


def test_only_admins_see_hosts(tmp_path_factory):
    from test_identity import IDENTITY_CONF, bootstrap, call, cinder_cli, login, openstack

    state = tmp_path_factory.mktemp("hosts-ks")
    proc, ks = start_service(state, extra=IDENTITY_CONF, log_file=str(state / "service.log"))
    try:
        bootstrap(ks)
        openstack(ks, "project", "create", "--domain", "default", "proj-a")
        openstack(ks, "user", "create", "--domain", "default", "--project", "proj-a", "--password", "alice-pw", "alice")
        openstack(ks, "role", "add", "--project", "proj-a", "--user", "alice", "member")
        token, body = login(ks, "alice", "alice-pw", "proj-a")
        project = body["token"]["project"]["id"]
        code, answer, _ = call(ks, "GET", f"/v3/{project}/os-hosts", token=token)
        assert (code, answer["forbidden"]["message"]) == (
            403, "Policy doesn't allow volume_extension:hosts to be performed.")
        code, answer, _ = call(ks, "GET", f"/v3/{project}/os-hosts/anything", token=token)
        assert code == 403
        # Any user lists the extensions.
        assert "VolumeImageMetadata" in cinder_cli(ks, "list-extensions", user="alice", password="alice-pw",
                                                   project="proj-a").stdout
        token, body = login(ks, "admin", "s3cret-Admin", "admin")
        code, answer, _ = call(ks, "GET", f"/v3/{body['token']['project']['id']}/os-hosts", token=token)
        assert code == 200 and answer["hosts"]
    finally:
        stop_service(proc)
