"""Group snapshots are crash-consistent (the volume host holds the writes that reach the group's
volumes through tgtd while it takes the snapshots): a writer keeps writing sequence numbers to two
volumes of a group over iSCSI (A then B, each write completed before the next) while group
snapshots are taken; in every group snapshot B's number <= A's number <= B's number + 1, the cut
of one point in time. Without the hold the snapshot of B is taken after A's, while the writer
goes on, and shows a larger number than A's."""
import json
import os
import struct
import subprocess
import time

import pytest

from conftest import BIN, start_service, stop_service
from test_attach import NO_QUOTA, backend, read_env, tgtd  # noqa: F401 (the tgtd fixture)

V314 = "volume 3.14"
CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:seq-writer", "host": "writer", "ip": "127.0.0.1"}


@pytest.fixture(scope="module")
def svc(tgtd, tmp_path_factory):  # noqa: F811
    state = tmp_path_factory.mktemp("gsnap-consistency")
    proc, s = start_service(state, backends=backend(str(state), read_env(tgtd)),
                            extra=NO_QUOTA + "\nquota_snapshots = -1")
    yield s
    stop_service(proc)


def api(svc, method, path, body=None, version="volume 3.70"):
    status, answer, _ = svc.request(method, svc.url(path), body, version=version)
    return status, answer


def wait(svc, path, key, statuses, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status, body = api(svc, "GET", path, version=V314)
        if status == 200 and body[key]["status"] in statuses:
            return body[key]["status"]
        time.sleep(0.01)
    raise AssertionError(f"{path} did not reach {statuses}")


def seq(path):
    with open(path, "rb") as f:
        return struct.unpack("<Q", f.read(8))[0]


def test_group_snapshots_are_crash_consistent(svc, tgtd, tmp_path):  # noqa: F811
    status, body = api(svc, "POST", "/types", {"volume_type": {"name": "cc-vt"}})
    assert status == 200, body
    status, body = api(svc, "POST", "/group_types", {"group_type": {"name": "cc-gt"}}, version=V314)
    assert status == 202, body
    status, body = api(svc, "POST", "/groups", {"group": {"group_type": "cc-gt", "volume_types": ["cc-vt"]}},
                       version=V314)
    assert status == 202, body
    group_id = body["group"]["id"]
    assert wait(svc, f"/groups/{group_id}", "group", ["available", "error"]) == "available"
    vols, infos = [], []
    for name in ("A", "B"):
        status, body = api(svc, "POST", "/volumes", {"volume": {"size": 1, "name": name, "volume_type": "cc-vt",
                                                                "group_id": group_id}}, version=V314)
        assert status == 202, body
        vid = body["volume"]["id"]
        assert svc.wait_status(vid, ["available", "error"]) == "available"
        status, body = api(svc, "POST", "/attachments", {"attachment": {
            "volume_uuid": vid, "instance_uuid": "5a4f0a3e-0c2b-4c0f-9d7e-2f1a3b4c5d6e", "connector": CONNECTOR}})
        assert status == 200, body
        att = body["attachment"]
        assert att["connection_info"]["driver_volume_type"] == "iscsi"
        status, _ = api(svc, "POST", f"/attachments/{att['id']}/action", {"os-complete": None})
        assert status == 204
        vols.append(vid)
        path = tmp_path / f"conn-{name}.json"
        path.write_text(json.dumps(att["connection_info"]))
        infos.append(str(path))

    # The writer, over iSCSI through this host's tgtd (the service's write path).
    stop = tmp_path / "stop"
    writer = subprocess.Popen([os.path.join(BIN, "seq_writer"), infos[0], infos[1], str(stop), "120"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    taken = []
    try:
        deadline = time.time() + 10
        while seq(os.path.join(svc.volume_dir, f"volume-{vols[1]}")) < 100:
            assert writer.poll() is None, writer.stderr.read()
            assert time.time() < deadline, "the writer did not get going"
            time.sleep(0.01)
        for _ in range(15):
            status, body = api(svc, "POST", "/group_snapshots", {"group_snapshot": {"group_id": group_id}},
                               version=V314)
            assert status == 202, body
            gs_id = body["group_snapshot"]["id"]
            assert wait(svc, f"/group_snapshots/{gs_id}", "group_snapshot", ["available", "error"]) == "available"
            taken.append(gs_id)
            time.sleep(0.02)
    finally:
        stop.write_text("")
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    written = int(out.split()[-1])

    status, body = api(svc, "GET", "/snapshots/detail", version=V314)
    assert status == 200
    cuts = []
    for gs_id in taken:
        members = {s["volume_id"]: s["id"] for s in body["snapshots"] if s["group_snapshot_id"] == gs_id}
        a = seq(os.path.join(svc.volume_dir, f"snapshot-{members[vols[0]]}"))
        b = seq(os.path.join(svc.volume_dir, f"snapshot-{members[vols[1]]}"))
        cuts.append((a, b))
    # Every cut is one point in time: B has A's number, or the one before (A written, B not yet).
    print("cuts (A, B):", cuts, "written", written)
    bad = [(a, b) for a, b in cuts if not b <= a <= b + 1]
    assert not bad, f"inconsistent group snapshots (A, B): {bad} of {cuts}"
    # And they were taken while the writer went on: in order, and not all at one number.
    assert all(later[0] >= earlier[0] for earlier, later in zip(cuts, cuts[1:])), cuts
    assert cuts[-1][0] > cuts[0][0], cuts
    assert cuts[-1][0] <= written

    for vid in vols:
        status, body = api(svc, "GET", f"/volumes/{vid}")
        for att in body["volume"]["attachments"]:
            assert api(svc, "DELETE", f"/attachments/{att['attachment_id']}")[0] == 200
    for gs_id in taken:
        assert api(svc, "DELETE", f"/group_snapshots/{gs_id}", version=V314)[0] == 202
