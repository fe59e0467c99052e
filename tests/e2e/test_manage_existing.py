"""Manage existing volumes and snapshots through the stock client (cinder manage, manageable-list,
unmanage, snapshot-manage, snapshot-manageable-list, snapshot-unmanage) and the REST API: a raw
file dropped in the file backend's directory becomes a volume and goes back to being a file."""
import json
import os
import urllib.parse

from conftest import PROJECT, start_service, stop_service, table_rows

GiB = 1 << 30
V38 = ("--os-volume-api-version", "3.8")


def backend_host(service):
    code, body, _ = service.request("GET", service.url("/os-services?binary=cinder-volume"))
    assert code == 200
    return body["services"][0]["host"]


def usage(service):
    code, body, _ = service.request("GET", service.url(f"/os-quota-sets/{PROJECT}?usage=True"))
    assert code == 200
    qs = body["quota_set"]
    return {k: qs[k]["in_use"] for k in ("volumes", "gigabytes", "snapshots")}


def write_raw(service, name, head, size):
    path = os.path.join(service.volume_dir, name)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def head_of(path, n):
    with open(path, "rb") as f:
        return f.read(n)


def manageable(service, host, snapshots=False):
    """The detailed list, by source-name."""
    code, body, _ = service.request(
        "GET", service.url(f"/manageable_{'snapshots' if snapshots else 'volumes'}/detail?host={host}"),
        version="volume 3.8")
    assert code == 200, body
    key = "manageable-snapshots" if snapshots else "manageable-volumes"
    return {e["reference"]["source-name"]: e for e in body[key]}


def test_manage_list_unmanage_and_manage_again(service):
    host = backend_host(service)
    head = os.urandom(1536 * 1024)
    path = write_raw(service, "legacy-disk.raw", head, GiB + 4096)  # 2 GiB once rounded up

    rows = table_rows(service.cinder(*V38, "manageable-list", host).stdout)
    row = next(r for r in rows if "legacy-disk.raw" in r["reference"])
    assert row["size"] == "2" and row["safe_to_manage"] == "True"
    assert manageable(service, host)["legacy-disk.raw"] == {
        "reference": {"source-name": "legacy-disk.raw"}, "size": 2, "safe_to_manage": True,
        "reason_not_safe": None, "cinder_id": None, "extra_info": None}
    # The summary list (3.8) and the extension's path (any version) show the same entry.
    code, body, _ = service.request("GET", service.url(f"/manageable_volumes?host={host}"), version="volume 3.8")
    assert code == 200 and {"reference": {"source-name": "legacy-disk.raw"}, "size": 2,
                            "safe_to_manage": True} in body["manageable-volumes"]
    code, body, _ = service.request("GET", service.url(f"/os-volume-manage?host={host}"), version="volume 3.0")
    assert code == 200 and any(e["reference"] == {"source-name": "legacy-disk.raw"} for e in body["manageable-volumes"])

    before = usage(service)
    shown = service.cinder_table("manage", host, "legacy-disk.raw", "--name", "adopted", "--bootable")
    vol_id = shown["id"]
    assert service.wait_status(vol_id, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/volumes/{vol_id}"))
    vol = body["volume"]
    assert (vol["size"], vol["name"], vol["bootable"]) == (2, "adopted", "true")
    assert vol["os-vol-host-attr:host"].startswith(host + "#")
    managed_path = os.path.join(service.volume_dir, f"volume-{vol_id}")
    assert not os.path.exists(path) and os.path.getsize(managed_path) == 2 * GiB
    assert head_of(managed_path, len(head)) == head
    after = usage(service)
    assert (after["volumes"], after["gigabytes"]) == (before["volumes"] + 1, before["gigabytes"] + 2)

    # Now it is a volume: listed, not safe to manage.
    entry = manageable(service, host)[f"volume-{vol_id}"]
    assert (entry["safe_to_manage"], entry["reason_not_safe"], entry["cinder_id"]) == (False, "already managed", vol_id)
    # Managing it again is refused at the API (Cinder's check_already_managed_volume).
    code, body, _ = service.request("POST", service.url("/os-volume-manage"),
                                    {"volume": {"host": host, "ref": {"source-name": f"volume-{vol_id}"}}})
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid volume: Unable to manage existing volume. The volume is already managed")

    service.cinder("unmanage", vol_id)
    assert service.wait_status(vol_id, ["deleted"]) == "deleted"
    kept = os.path.join(service.volume_dir, f"unmanaged-volume-{vol_id}")
    assert not os.path.exists(managed_path) and head_of(kept, len(head)) == head
    assert usage(service) == before
    entry = manageable(service, host)[f"unmanaged-volume-{vol_id}"]
    assert (entry["safe_to_manage"], entry["cinder_id"], entry["size"]) == (True, None, 2)

    again = service.cinder_table("manage", "--id-type", "source-name", host, f"unmanaged-volume-{vol_id}")
    assert service.wait_status(again["id"], ["available", "error"]) == "available"
    assert head_of(os.path.join(service.volume_dir, f"volume-{again['id']}"), len(head)) == head
    service.cinder("delete", again["id"])
    service.wait_status(again["id"], ["deleted"])
    assert usage(service) == before


def test_snapshot_manage_list_and_unmanage(service):
    host = backend_host(service)
    vol_id = service.cinder_table("create", "--name", "snap-home", "1")["id"]
    service.wait_status(vol_id, ["available"])
    head = os.urandom(4096)
    write_raw(service, "old-snap.raw", head, 512 * 1024)
    before = usage(service)

    # snapshot-manage: a file of the backend becomes a snapshot of the volume.
    shown = service.cinder_table("snapshot-manage", vol_id, "old-snap.raw", "--name", "adopted-snap")
    snap_id = shown["id"]
    assert service.wait_snapshot(snap_id, ["available", "error"]) == "available"
    snap_path = os.path.join(service.volume_dir, f"snapshot-{snap_id}")
    assert head_of(snap_path, len(head)) == head
    after = usage(service)
    assert (after["snapshots"], after["gigabytes"]) == (before["snapshots"] + 1, before["gigabytes"] + 1)
    rows = table_rows(service.cinder(*V38, "snapshot-manageable-list", host).stdout)
    row = next(r for r in rows if f"snapshot-{snap_id}" in r["reference"])
    assert row["safe_to_manage"] == "False" and row["cinder_id"] == snap_id and vol_id in row["source_reference"]

    # A live snapshot's file is not taken as a volume: the volume fails, the file stays.
    code, body, _ = service.request("POST", service.url("/os-volume-manage"),
                                    {"volume": {"host": host, "ref": {"source-name": f"snapshot-{snap_id}"}}})
    assert code == 202
    assert service.wait_status(body["volume"]["id"], ["available", "error"]) == "error"
    assert head_of(snap_path, len(head)) == head
    service.cinder("delete", body["volume"]["id"])
    service.wait_status(body["volume"]["id"], ["deleted"])

    # A volume with snapshots cannot be unmanaged.
    res = service.cinder("unmanage", vol_id, check=False)
    assert res.returncode != 0 and "must not be migrating, attached, belong to a group, have snapshots" in res.stderr

    service.cinder("snapshot-unmanage", snap_id)
    assert service.wait_snapshot(snap_id, ["deleted"]) == "deleted"
    kept = f"unmanaged-snapshot-{snap_id}.volume-{vol_id}"
    assert head_of(os.path.join(service.volume_dir, kept), len(head)) == head
    assert usage(service) == before
    entry = manageable(service, host, snapshots=True)[kept]
    assert entry["safe_to_manage"] is True and entry["source_reference"] == {"source-name": f"volume-{vol_id}"}
    # Snapshot files are not offered as volumes.
    assert kept not in manageable(service, host)

    # Managed again (REST, a bare string reference as the LVM driver takes it).
    code, body, _ = service.request("POST", service.url("/manageable_snapshots"),
                                    {"snapshot": {"volume_id": vol_id, "ref": {"source-name": kept}}},
                                    version="volume 3.8")
    assert code == 202 and body["snapshot"]["status"] == "creating"
    assert service.wait_snapshot(body["snapshot"]["id"], ["available", "error"]) == "available"
    service.cinder("snapshot-delete", body["snapshot"]["id"])
    service.wait_snapshot(body["snapshot"]["id"], ["deleted"])
    service.cinder("delete", vol_id)
    service.wait_status(vol_id, ["deleted"])


def test_manage_a_file_that_is_not_there_fails_later(service):
    host = backend_host(service)
    before = usage(service)
    code, body, _ = service.request("POST", service.url("/os-volume-manage"),
                                    {"volume": {"host": host, "ref": {"source-name": "no-such-file"}}},
                                    version="volume 3.0")
    assert code == 202, body
    vol = body["volume"]
    assert vol["status"] == "creating" and vol["size"] == 0 and "volume_type" in vol
    # error_managing, shown as error (Cinder's views map it).
    assert service.wait_status(vol["id"], ["available", "error"]) == "error"
    # The volume counts (volumes) until it is deleted; deleting it gives that back.
    assert usage(service)["volumes"] == before["volumes"] + 1
    service.cinder("delete", vol["id"])
    service.wait_status(vol["id"], ["deleted"])
    assert usage(service) == before
    # A reference the driver cannot use (no source-name) fails the same way.
    code, body, _ = service.request("POST", service.url("/os-volume-manage"),
                                    {"volume": {"host": host, "ref": {"source-id": "1234"}}})
    assert code == 202
    assert service.wait_status(body["volume"]["id"], ["available", "error"]) == "error"
    service.cinder("delete", body["volume"]["id"])
    service.wait_status(body["volume"]["id"], ["deleted"])


def test_manage_goes_through_the_scheduler_filters(service):
    """Cinder's scheduler checks the named backend passes the filters for the volume's type: a
    type bound to another backend gets error_managing with the scheduler's user message, the
    file stays; a type the backend fits is adopted, on the backend's pool."""
    host = backend_host(service)
    path = write_raw(service, "wrong-type.raw", b"keep me", GiB)
    service.cinder("type-create", "elsewhere")
    service.cinder("type-key", "elsewhere", "set", "volume_backend_name=nowhere")
    service.cinder("type-create", "here")
    service.cinder("type-key", "here", "set", "volume_backend_name=file")
    try:
        before = usage(service)
        shown = service.cinder_table("manage", host, "wrong-type.raw", "--volume-type", "elsewhere")
        vol_id = shown["id"]
        assert service.wait_status(vol_id, ["available", "error"]) == "error"
        assert head_of(path, 7) == b"keep me"  # not adopted
        rows = table_rows(service.cinder("--os-volume-api-version", "3.3", "message-list").stdout)
        mine = [r for r in rows if r["Resource UUID"] == vol_id]
        assert mine and "schedule allocate volume" in mine[0]["User Message"], rows
        service.cinder("delete", vol_id)
        service.wait_status(vol_id, ["deleted"])
        assert usage(service) == before

        shown = service.cinder_table("manage", host, "wrong-type.raw", "--volume-type", "here")
        assert service.wait_status(shown["id"], ["available", "error"]) == "available"
        code, body, _ = service.request("GET", service.url(f"/volumes/{shown['id']}"))
        assert body["volume"]["os-vol-host-attr:host"] == host + "#file"
        assert body["volume"]["volume_type"] == "here"
        service.cinder("delete", shown["id"])
        service.wait_status(shown["id"], ["deleted"])
    finally:
        service.cinder("type-delete", "elsewhere")
        service.cinder("type-delete", "here")


def test_manage_bad_requests(service):
    host = backend_host(service)
    write_raw(service, "untouched.raw", b"x", 4096)
    rows_before = service.db_snapshot()

    def post(body, path="/os-volume-manage", version="volume 3.0"):
        return service.request("POST", service.url(path), body, version=version)

    # Unknown host: volume_manage.py turns ServiceNotFound into 400.
    code, body, _ = post({"volume": {"host": "nowhere@file", "ref": {"source-name": "untouched.raw"}}})
    assert (code, body["badRequest"]["message"]) == (400, "Host 'nowhere@file' not found")
    res = service.cinder("manage", "nowhere@file", "untouched.raw", check=False)
    assert res.returncode != 0 and "Host 'nowhere@file' not found" in res.stderr
    # The lists answer ServiceNotFound as 404.
    code, body, _ = service.request("GET", service.url("/manageable_volumes?host=nowhere@file"), version="volume 3.8")
    assert (code, body["itemNotFound"]["message"]) == (
        404, "Service cinder-volume could not be found on host nowhere@file.")
    res = service.cinder(*V38, "manageable-list", "nowhere@file", check=False)
    assert res.returncode != 0 and "(HTTP 404)" in res.stderr
    # ref is required; host (or, from 3.16, cluster) too.
    code, body, _ = post({"volume": {"host": host}})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid input for field/attribute volume. Value: {{'host': '{host}'}}. 'ref' is a required property")
    code, body, _ = post({"volume": {"ref": {"source-name": "untouched.raw"}}})
    assert (code, body["badRequest"]["message"]) == (400, "Invalid input received: Host field is missing.")
    code, body, _ = post({"volume": {"ref": {"source-name": "untouched.raw"}}}, version="volume 3.16")
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid input received: One and only one of cluster and host must be set.")
    code, body, _ = post({"volume": {"host": host, "ref": {"source-name": "x"}, "cluster": "c"}})
    assert code == 400 and "Additional properties are not allowed ('cluster' was unexpected)" in body["badRequest"][
        "message"]
    code, body, _ = post({"volume": {"host": host, "ref": {"source-name": "x"}, "volume_type": "no-such-type"}})
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid volume type: Cannot find requested 'no-such-type' volume type")
    code, body, _ = service.request("GET", service.url("/manageable_volumes"), version="volume 3.8")
    assert (code, body["badRequest"]["message"]) == (400, "Invalid input received: Host field is missing.")
    # The v3 paths start at 3.8.
    code, body, _ = service.request("GET", service.url(f"/manageable_volumes?host={host}"), version="volume 3.7")
    assert code == 404
    code, body, _ = post({"volume": {"host": host, "ref": {"source-name": "x"}}}, path="/manageable_volumes",
                         version="volume 3.7")
    assert code == 404
    # Sort keys and directions of these lists.
    code, body, _ = service.request("GET", service.url(f"/manageable_volumes?host={host}&sort=name"),
                                    version="volume 3.8")
    assert (code, body["badRequest"]["message"]) == (400, "Invalid sort keys passed: name")
    code, body, _ = service.request("GET", service.url(f"/manageable_volumes?host={host}&sort=size:up"),
                                    version="volume 3.8")
    assert (code, body["badRequest"]["message"]) == (400, "Invalid sort dirs passed: up")
    code, body, _ = service.request(
        "GET", service.url(f"/manageable_volumes?host={host}&marker=" + urllib.parse.quote('{"source-name":"nope"}')),
        version="volume 3.8")
    assert code == 400 and "marker not found" in body["badRequest"]["message"]
    # Snapshots: volume_id and ref required; an unknown volume is 404.
    code, body, _ = post({"snapshot": {"ref": {"source-name": "untouched.raw"}}}, path="/os-snapshot-manage")
    assert code == 400 and body["badRequest"]["message"].endswith(". 'volume_id' is a required property")
    code, body, _ = post({"snapshot": {"volume_id": "7b1e4b4e-4b1e-4b1e-8b1e-4b1e4b1e4b1e",
                                       "ref": {"source-name": "untouched.raw"}}}, path="/os-snapshot-manage")
    assert code == 404
    assert service.db_snapshot() == rows_before


def test_manage_list_paging_and_sorting(service):
    host = backend_host(service)
    for name, size in (("page-a.raw", GiB), ("page-b.raw", 3 * GiB), ("page-c.raw", 2 * GiB)):
        write_raw(service, name, b"", size)
    names = [n for n in manageable(service, host) if n.startswith("page-")]
    assert sorted(names) == ["page-a.raw", "page-b.raw", "page-c.raw"]

    def refs(query):
        code, body, _ = service.request("GET", service.url(f"/manageable_volumes?host={host}&{query}"),
                                        version="volume 3.8")
        assert code == 200, body
        return [e["reference"]["source-name"] for e in body["manageable-volumes"]
                if e["reference"]["source-name"].startswith("page-")]

    assert refs("sort=reference:asc") == ["page-a.raw", "page-b.raw", "page-c.raw"]
    assert refs("") == ["page-c.raw", "page-b.raw", "page-a.raw"]  # reference desc by default
    assert refs("sort=size:desc") == ["page-b.raw", "page-c.raw", "page-a.raw"]
    marker = urllib.parse.quote(json.dumps({"source-name": "page-a.raw"}))
    assert refs(f"sort=reference:asc&marker={marker}&limit=1") == ["page-b.raw"]
    assert refs(f"sort=reference:asc&marker={marker}&offset=1") == ["page-c.raw"]
    for name in ("page-a.raw", "page-b.raw", "page-c.raw"):
        os.remove(os.path.join(service.volume_dir, name))


def test_unmanage_refusals(service):
    vol_id = service.cinder_table("create", "--name", "busy", "1")["id"]
    service.wait_status(vol_id, ["available"])
    # Attached (legacy attach): refused.
    code, _, _ = service.request("POST", service.url(f"/volumes/{vol_id}/action"),
                                 {"os-attach": {"host_name": "h1", "mountpoint": "/dev/vdb"}})
    assert code == 202
    service.wait_status(vol_id, ["in-use"])
    code, body, _ = service.request("POST", service.url(f"/volumes/{vol_id}/action"), {"os-unmanage": None})
    assert code == 400 and "must not be migrating, attached" in body["badRequest"]["message"]
    code, _, _ = service.request("POST", service.url(f"/volumes/{vol_id}/action"), {"os-detach": {}})
    assert code == 202
    service.wait_status(vol_id, ["available"])
    # Unknown volume: 404.
    code, body, _ = service.request("POST", service.url("/volumes/7b1e4b4e-4b1e-4b1e-8b1e-4b1e4b1e4b1e/action"),
                                    {"os-unmanage": None})
    assert code == 404
    service.cinder("delete", vol_id)
    service.wait_status(vol_id, ["deleted"])


def test_manage_needs_an_admin(tmp_path_factory):
    """auth_strategy = keystone: a project member gets Cinder's 403 for the manage API."""
    from test_identity import IDENTITY_CONF, bootstrap, cinder_cli, openstack

    state = tmp_path_factory.mktemp("manage-ks")
    proc, ks = start_service(state, extra=IDENTITY_CONF, log_file=str(state / "service.log"))
    try:
        bootstrap(ks)
        openstack(ks, "project", "create", "--domain", "default", "proj-m")
        openstack(ks, "user", "create", "--domain", "default", "--project", "proj-m", "--password", "m-pw", "mia")
        openstack(ks, "role", "add", "--project", "proj-m", "--user", "mia", "member")
        mia = {"user": "mia", "password": "m-pw", "project": "proj-m"}
        host = table_rows(cinder_cli(ks, "service-list").stdout)
        host = next(r["Host"] for r in host if r["Binary"] == "cinder-volume")
        write_raw(ks, "member-file.raw", b"m", 4096)
        for args in (("manage", host, "member-file.raw"), (*V38, "manageable-list", host),
                     (*V38, "snapshot-manageable-list", host)):
            res = cinder_cli(ks, *args, check=False, **mia)
            assert res.returncode != 0 and "(HTTP 403)" in res.stderr, args
        vol = cinder_cli(ks, "create", "--name", "mia-vol", "1", **mia).stdout
        vol_id = next(r["Value"] for r in table_rows(vol) if r["Property"] == "id")
        res = cinder_cli(ks, "unmanage", vol_id, check=False, **mia)
        assert res.returncode != 0 and "Policy doesn't allow volume_extension:volume_unmanage to be performed." in (
            res.stderr)
        # The admin may.
        rows = table_rows(cinder_cli(ks, *V38, "manageable-list", host).stdout)
        assert any("member-file.raw" in r["reference"] for r in rows)
    finally:
        stop_service(proc)
