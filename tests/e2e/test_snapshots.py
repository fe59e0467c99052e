"""Snapshots, volumes made from snapshots and from other volumes, and reverting, through the
stock client. Contents are checked byte for byte after the source is overwritten."""
import os

from conftest import table_rows

GiB = 1024 ** 3
MiB = 1024 ** 2


def path_of(service, kind, ident):
    return os.path.join(service.volume_dir, f"{kind}-{ident}")


def write_at(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(length)


def pattern(tag, length=MiB):
    unit = (tag * 64)[:64].encode()
    return (unit * (length // len(unit) + 1))[:length]


def new_volume(service, size=1, *args):
    vol = service.cinder_table("create", *args, str(size))["id"]
    assert service.wait_status(vol, {"available", "error"}) == "available"
    return vol


def test_snapshot_clone_revert_keep_their_bytes(service):
    vol = new_volume(service, 1, "--name", "origin")
    vpath = path_of(service, "volume", vol)
    offsets = [0, 300 * MiB, GiB - MiB]
    for i, off in enumerate(offsets):
        write_at(vpath, off, pattern(f"first-{i}"))

    snap = service.cinder_table("snapshot-create", "--name", "s1", "--metadata", "k=v", vol)
    assert snap["volume_id"] == vol and snap["name"] == "s1"
    assert service.wait_snapshot(snap["id"], {"available", "error"}) == "available"
    shown = service.cinder_table("snapshot-show", snap["id"])
    assert shown["status"] == "available" and shown["size"] == "1"
    assert shown["os-extended-snapshot-attributes:progress"] == "100%"
    assert "k" in shown["metadata"]
    rows = table_rows(service.cinder("snapshot-list").stdout)
    assert [(r["ID"], r["Volume ID"], r["Status"], r["Name"], r["Size"]) for r in rows] == [
        (snap["id"], vol, "available", "s1", "1")]

    # The volume is overwritten: the snapshot keeps the first bytes.
    for i, off in enumerate(offsets):
        write_at(vpath, off, pattern(f"second-{i}"))
    spath = path_of(service, "snapshot", snap["id"])
    for i, off in enumerate(offsets):
        assert read_at(spath, off, MiB) == pattern(f"first-{i}")

    # A larger volume from the snapshot: its data, then zeros; its own type and zone.
    from_snap = service.cinder_table("create", "--snapshot-id", snap["id"], "2")
    assert from_snap["snapshot_id"] == snap["id"]
    assert service.wait_status(from_snap["id"], {"available", "error"}) == "available"
    fpath = path_of(service, "volume", from_snap["id"])
    assert os.stat(fpath).st_size == 2 * GiB
    for i, off in enumerate(offsets):
        assert read_at(fpath, off, MiB) == pattern(f"first-{i}")
    assert read_at(fpath, GiB + 5 * MiB, MiB) == bytes(MiB)

    # A clone of the volume as it is now; overwriting the source later leaves it alone.
    clone = service.cinder_table("create", "--source-volid", vol, "--name", "clone")
    assert clone["source_volid"] == vol and clone["size"] == "1"
    assert service.wait_status(clone["id"], {"available", "error"}) == "available"
    for i, off in enumerate(offsets):
        write_at(vpath, off, pattern(f"third-{i}"))
    cpath = path_of(service, "volume", clone["id"])
    for i, off in enumerate(offsets):
        assert read_at(cpath, off, MiB) == pattern(f"second-{i}")
        assert read_at(fpath, off, MiB) == pattern(f"first-{i}")

    # Revert (3.40): the volume holds the snapshot's bytes again.
    service.cinder("--os-volume-api-version", "3.40", "revert-to-snapshot", snap["id"])
    assert service.wait_status(vol, {"available", "error"}) == "available"
    assert service.wait_snapshot(snap["id"], {"available"}) == "available"
    for i, off in enumerate(offsets):
        assert read_at(vpath, off, MiB) == pattern(f"first-{i}")
    assert os.stat(vpath).st_size == GiB

    # A volume with snapshots is not deleted, unless with them (cascade).
    res = service.cinder("delete", vol, check=False)
    assert "have snapshots" in res.stdout + res.stderr
    assert service.cinder_table("show", vol)["status"] == "available"
    res = service.cinder("snapshot-delete", snap["id"], check=False)  # a volume from it is done: fine
    assert res.returncode == 0
    assert service.wait_snapshot(snap["id"], {"deleted"}) == "deleted"
    assert not os.path.exists(spath)
    for v in (vol, from_snap["id"], clone["id"]):
        service.cinder("delete", v)
        assert service.wait_status(v, {"deleted"}) == "deleted"


def test_cascade_delete_takes_the_snapshots(service):
    vol = new_volume(service)
    snaps = [service.cinder_table("snapshot-create", vol)["id"] for _ in range(2)]
    for s in snaps:
        assert service.wait_snapshot(s, {"available"}) == "available"
    service.cinder("delete", "--cascade", vol)
    assert service.wait_status(vol, {"deleted"}) == "deleted"
    for s in snaps:
        assert service.wait_snapshot(s, {"deleted"}) == "deleted"
        assert not os.path.exists(path_of(service, "snapshot", s))
    assert not os.path.exists(path_of(service, "volume", vol))


def test_snapshot_update_metadata_and_admin_actions(service):
    vol = new_volume(service)
    snap = service.cinder_table("snapshot-create", vol)["id"]
    service.wait_snapshot(snap, {"available"})
    service.cinder("snapshot-rename", snap, "renamed", "--description", "about")
    shown = service.cinder_table("snapshot-show", snap)
    assert shown["name"] == "renamed" and shown["description"] == "about"
    service.cinder("snapshot-metadata", snap, "set", "a=1", "b=2")
    service.cinder("snapshot-metadata", snap, "unset", "a")
    code, body, _ = service.request("GET", service.url(f"/snapshots/{snap}/metadata"))
    assert code == 200 and body == {"metadata": {"b": "2"}}
    code, body, _ = service.request("GET", service.url(f"/snapshots/{snap}/metadata/a"))
    assert code == 404 and body["itemNotFound"]["message"] == f"Snapshot {snap} has no metadata with key a."

    service.cinder("snapshot-reset-state", "--state", "error", snap)
    assert service.cinder_table("snapshot-show", snap)["status"] == "error"
    code, body, _ = service.request("POST", service.url(f"/snapshots/{snap}/action"),
                                    {"os-reset_status": {"status": "bogus"}})
    assert code == 400 and "bogus" in body["badRequest"]["message"]
    # An error snapshot is deleted normally; a creating one only by force.
    service.cinder("snapshot-reset-state", "--state", "creating", snap)
    res = service.cinder("snapshot-delete", snap, check=False)
    assert "Snapshot status must be available or error" in res.stdout + res.stderr
    service.cinder("snapshot-delete", "--force", snap)
    assert service.wait_snapshot(snap, {"deleted"}) == "deleted"
    service.cinder("delete", vol)


def test_bad_snapshot_requests_change_nothing(service):
    vol = new_volume(service)
    snap = service.cinder_table("snapshot-create", vol)["id"]
    service.wait_snapshot(snap, {"available"})
    before = service.db_snapshot()

    def fault(method, path, body=None, version="volume 3.70"):
        code, out, _ = service.request(method, service.url(path), body, version=version)
        return code, next(iter(out.values()))["message"] if out else None

    missing = "0b1c2d3e-0000-4000-8000-000000000000"
    assert fault("POST", "/snapshots", {"snapshot": {"volume_id": missing}}) == (
        404, f"Volume {missing} could not be found.")
    assert fault("POST", "/snapshots", {"snapshot": {"volume_id": "nope"}})[0] == 400
    assert fault("POST", "/snapshots", {"snapshot": {"name": "x"}}) == (
        400, "Invalid input for field/attribute snapshot. Value: {'name': 'x'}. "
             "'volume_id' is a required property")
    code, msg = fault("POST", "/snapshots", {"snapshot": {"volume_id": vol, "force": False}})
    assert code == 400 and "Since microversion 3.66 the 'force' flag is invalid" in msg
    code, msg = fault("POST", "/snapshots", {"snapshot": {"volume_id": vol, "colour": "red"}})
    assert code == 400 and "'colour' was unexpected" in msg
    assert fault("GET", f"/snapshots/{missing}") == (404, f"Snapshot {missing} could not be found.")
    assert fault("DELETE", f"/snapshots/{missing}")[0] == 404
    # New volumes from sources: too small, or a source that is not there.
    assert fault("POST", "/volumes", {"volume": {"snapshot_id": snap, "size": 0}})[0] == 400
    code, msg = fault("POST", "/volumes", {"volume": {"source_volid": missing}})
    assert (code, msg) == (404, f"Volume {missing} could not be found.")
    code, msg = fault("POST", "/volumes", {"volume": {"snapshot_id": missing}})
    assert (code, msg) == (404, f"Snapshot {missing} could not be found.")
    code, msg = fault("POST", "/volumes", {"volume": {"snapshot_id": snap, "availability_zone": "elsewhere"}})
    assert (code, msg) == (400, "Invalid input received: Volume must be in the same availability zone as the snapshot")
    # Revert: only the latest snapshot, only at the snapshot's size, only from 3.40.
    code, msg = fault("POST", f"/volumes/{vol}/action", {"revert": {"snapshot_id": missing}})
    assert (code, msg) == (400, f"Specified snapshot {missing} is None or not the latest one of volume {vol}.")
    code, _ = fault("POST", f"/volumes/{vol}/action", {"revert": {"snapshot_id": snap}}, version="volume 3.39")
    assert code == 400
    assert service.db_snapshot() == before

    # A volume grown since its snapshot cannot be reverted to it.
    service.cinder("extend", vol, "2")
    service.wait_status(vol, {"available"})
    code, msg = fault("POST", f"/volumes/{vol}/action", {"revert": {"snapshot_id": snap}})
    assert (code, msg) == (400, f"Can't revert volume {vol} to its latest snapshot {snap}. "
                                "The volume size must be equal to the snapshot size.")
    code, msg = fault("POST", "/volumes", {"volume": {"snapshot_id": snap, "size": 0}})
    assert code == 400
    # A snapshot of a volume in error is refused.
    service.cinder("reset-state", "--state", "error", vol)
    code, msg = fault("POST", "/snapshots", {"snapshot": {"volume_id": vol}})
    assert (code, msg) == (400, "Invalid volume: The snapshot cannot be created when the volume is in error status.")
    service.cinder("delete", "--cascade", vol)
    assert service.wait_status(vol, {"deleted"}) == "deleted"


def test_snapshot_lists_filter_sort_and_page(service):
    vol = new_volume(service)
    snaps = []
    for name in ("b", "a", "c"):
        snaps.append(service.cinder_table("snapshot-create", "--name", name, "--metadata", f"n={name}", vol)["id"])
        service.wait_snapshot(snaps[-1], {"available"})
    code, body, _ = service.request("GET", service.url(f"/snapshots/detail?volume_id={vol}&sort=name:asc&limit=2"))
    assert code == 200
    assert [s["name"] for s in body["snapshots"]] == ["a", "b"]
    assert body["snapshots"][0]["os-extended-snapshot-attributes:project_id"]
    nxt = body["snapshots_links"][0]["href"]
    assert "marker=" + body["snapshots"][1]["id"] in nxt
    code, body, _ = service.request("GET", service.url(
        f"/snapshots?volume_id={vol}&sort=name:asc&limit=2&marker={snaps[0]}"))
    assert [s["name"] for s in body["snapshots"]] == ["c"] and "snapshots_links" not in body
    code, body, _ = service.request("GET", service.url("/snapshots?metadata=%7B%27n%27%3A%27c%27%7D&with_count=true"))
    assert [s["id"] for s in body["snapshots"]] == [snaps[2]] and body["count"] == 1
    code, body, _ = service.request("GET", service.url("/snapshots?colour=red"))
    assert code == 400 and "colour" in body["badRequest"]["message"]
    service.cinder("delete", "--cascade", vol)
    assert service.wait_status(vol, {"deleted"}) == "deleted"


def test_update_snapshot_status_as_nova_sends_it(service):
    """os-update_snapshot_status (snapshot_actions.py; what Nova sends for the snapshots it
    takes): creating -> creating/available/error with a progress, deleting -> deleting or
    error_deleting, anything else refused with Cinder's messages and nothing changed."""
    vol = new_volume(service)
    snap = service.cinder_table("snapshot-create", vol)["id"]
    service.wait_snapshot(snap, {"available"})

    def update(body):
        return service.request("POST", service.url(f"/snapshots/{snap}/action"), {"os-update_snapshot_status": body})

    def shown():
        return service.request("GET", service.url(f"/snapshots/{snap}"))[1]["snapshot"]

    code, body, _ = update({"status": "error"})
    assert code == 400 and body["badRequest"]["message"] == (
        "Snapshot status available not allowed for update_snapshot_status")
    service.cinder("snapshot-reset-state", "--state", "creating", snap)
    code, body, _ = update({"status": "deleting"})
    assert code == 400 and body["badRequest"]["message"] == (
        "Provided snapshot status deleting not allowed for snapshot with status creating.")
    for bad, message in [({"status": "available", "progress": "101%"},
                          "Invalid input received: progress must be an integer percentage between 0 and 100"),
                         ({"status": "available", "progress": "half"},
                          "Invalid input received: progress must be an integer percentage"),
                         ({"progress": "10%"}, "'status' is a required property"),
                         ({"status": "available", "x": 1}, "('x' was unexpected)")]:
        code, body, _ = update(bad)
        assert code == 400 and message in body["badRequest"]["message"], (bad, body)
    assert shown()["status"] == "creating"

    assert update({"status": "creating", "progress": "40%"})[0] == 202
    assert shown()["os-extended-snapshot-attributes:progress"] == "40%"
    assert update({"status": "available", "progress": "100%"})[0] == 202
    snapshot = shown()
    assert snapshot["status"] == "available" and snapshot["os-extended-snapshot-attributes:progress"] == "100%"
    service.cinder("snapshot-delete", snap)
    service.wait_snapshot(snap, {"deleted"})
    service.cinder("delete", vol)
