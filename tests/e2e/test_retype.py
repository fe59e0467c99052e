"""os-retype through the stock client: on the same backend only the type changes; to a type
another backend serves, the volume is copied there (migration policy on-demand) byte for byte
and the old copy removed, or refused with the policy "never"."""
import os
import time

import pytest

from conftest import start_service, stop_service, table_rows

MiB = 1024 ** 2

BACKENDS = {
    "fast": "volume_driver = file\nvolume_backend_name = fast\n",
    "slow": "volume_driver = file\nvolume_backend_name = slow\n",
}


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    proc, s = start_service(tmp_path_factory.mktemp("retype"), backends=BACKENDS)
    s.cinder("type-create", "plain")
    s.cinder("type-create", "plainer")
    for name in ("fast", "slow"):
        s.cinder("type-create", f"on-{name}")
        s.cinder("type-key", f"on-{name}", "set", f"volume_backend_name={name}")
    yield s
    stop_service(proc)


def volume(svc, vol_id):
    return svc.request("GET", svc.url(f"/volumes/{vol_id}"))[1]["volume"]


def wait_not_retyping(svc, vol_id, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = volume(svc, vol_id)
        if v["status"] != "retyping":
            return v
        time.sleep(0.05)
    raise AssertionError(f"volume {vol_id} stayed retyping")


def file_of(svc, vol):
    backend = vol["os-vol-host-attr:host"].split("@")[1].split("#")[0]
    return os.path.join(svc.state, "volumes", backend, f"volume-{vol['id']}")


def test_retype_on_the_same_backend_changes_only_the_type(svc):
    vol_id = svc.cinder_table("create", "--volume-type", "plain", "1")["id"]
    svc.wait_status(vol_id, {"available"})
    before = volume(svc, vol_id)
    svc.cinder("retype", vol_id, "plainer")
    after = wait_not_retyping(svc, vol_id)
    assert after["status"] == "available" and after["volume_type"] == "plainer"
    assert after["os-vol-host-attr:host"] == before["os-vol-host-attr:host"]
    # Retyping to the type it has already is refused and changes nothing.
    res = svc.cinder("retype", vol_id, "plainer", check=False)
    assert "Retype needs volume to be in available or in-use state" in res.stderr
    res = svc.cinder("retype", vol_id, "no-such-type", check=False)
    assert "Invalid volume_type passed: no-such-type." in res.stderr
    assert volume(svc, vol_id)["status"] == "available"
    svc.cinder("delete", vol_id)


def test_retype_across_backends_copies_the_data(svc):
    vol_id = svc.cinder_table("create", "--volume-type", "on-fast", "1")["id"]
    svc.wait_status(vol_id, {"available"})
    vol = volume(svc, vol_id)
    assert vol["os-vol-host-attr:host"].endswith("@fast#fast")
    src = file_of(svc, vol)
    chunks = {0: os.urandom(MiB), 700 * MiB: os.urandom(MiB)}
    with open(src, "r+b") as f:
        for off, data in chunks.items():
            f.seek(off)
            f.write(data)

    # "never": the volume may not move, so nothing changes.
    svc.cinder("retype", "--migration-policy", "never", vol_id, "on-slow")
    after = wait_not_retyping(svc, vol_id)
    assert after["status"] == "available" and after["volume_type"] == "on-fast"
    assert after["os-vol-host-attr:host"] == vol["os-vol-host-attr:host"]
    rows = table_rows(svc.cinder("message-list", "--filters", f"resource_uuid={vol_id}").stdout)
    assert rows and rows[0]["Event ID"] == "VOLUME_VOLUME_001_003"

    # "on-demand": copied to the slow backend, byte for byte; the old file goes.
    svc.cinder("retype", "--migration-policy", "on-demand", vol_id, "on-slow")
    moved = wait_not_retyping(svc, vol_id)
    assert moved["status"] == "available" and moved["volume_type"] == "on-slow"
    assert moved["os-vol-host-attr:host"].endswith("@slow#slow")
    dst = file_of(svc, moved)
    assert os.stat(dst).st_size == 1024 * MiB
    with open(dst, "rb") as f:
        for off, data in chunks.items():
            f.seek(off)
            assert f.read(MiB) == data
        f.seek(300 * MiB)
        assert f.read(MiB) == bytes(MiB)
    assert not os.path.exists(src)
    # A volume with snapshots does not migrate.
    snap = svc.cinder_table("snapshot-create", vol_id)["id"]
    svc.wait_snapshot(snap, {"available"})
    svc.cinder("retype", "--migration-policy", "on-demand", vol_id, "on-fast")
    assert wait_not_retyping(svc, vol_id)["os-vol-host-attr:host"].endswith("@slow#slow")
    svc.cinder("delete", "--cascade", vol_id)
    svc.wait_status(vol_id, {"deleted"})


def test_bad_retype_requests(svc):
    vol_id = svc.cinder_table("create", "1")["id"]
    svc.wait_status(vol_id, {"available"})
    before = svc.db_snapshot()
    url = svc.url(f"/volumes/{vol_id}/action")
    code, body, _ = svc.request("POST", url, {"os-retype": {}})
    assert code == 400 and "'new_type' is a required property" in body["badRequest"]["message"]
    code, body, _ = svc.request("POST", url, {"os-retype": {"new_type": "plain", "migration_policy": "always"}})
    assert code == 400 and "is not one of ['on-demand', 'never']" in body["badRequest"]["message"]
    svc.cinder("reset-state", "--state", "error", vol_id)
    code, body, _ = svc.request("POST", url, {"os-retype": {"new_type": "plain"}})
    assert code == 400 and "Retype needs volume to be in available or in-use state" in body["badRequest"]["message"]
    svc.cinder("reset-state", "--state", "available", vol_id)
    rows, files = svc.db_snapshot()
    assert files == before[1]
    svc.cinder("delete", vol_id)
