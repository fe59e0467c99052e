"""attach() over iSCSI: a backend exporting through a private tgtd (scripts/tgtd-harness.sh),
the volume opened by the connector over libiscsi with CHAP, as a Python file."""
import os
import subprocess

import pytest

import cinder
from conftest import SOURCE_DIR

HARNESS = os.path.join(SOURCE_DIR, "scripts", "tgtd-harness.sh")


@pytest.fixture
def tgtd(tmp_path):
    d = str(tmp_path / "tgtd")
    r = subprocess.run([HARNESS, "start", d], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    if os.path.exists(os.path.join(d, "unavailable")):
        pytest.skip("tgtd is not installed here: " + open(os.path.join(d, "unavailable")).read())
    env = dict(line.split("=", 1) for line in open(os.path.join(d, "env")).read().split())
    yield env
    subprocess.run([HARNESS, "stop", d], capture_output=True)


def test_attach_over_iscsi(tmp_path, tgtd):
    backend = {"name": "iscsi", "target_helper": "tgtadm", "target_ip_address": "127.0.0.1",
               "target_port": tgtd["TGTD_PORT"], "tgt_ipc_socket": tgtd["TGT_IPC_SOCKET"]}
    with cinder.open(state_path=str(tmp_path / "state"), backends=[backend]) as svc:
        vol = svc.create_volume(1).wait()
        with vol.attach() as f:
            assert f.name.startswith(f"iscsi 127.0.0.1:{tgtd['TGTD_PORT']} iqn.2010-10.org.openstack:volume-")
            assert "password" not in f.name.lower()
            assert f.size == 1 << 30
            block = os.urandom(1 << 20)
            f.seek(3 << 20)
            f.write(block)
            f.write(b"tail")  # unaligned: read, patched, written back by the connector
            f.flush()
            f.seek(3 << 20)
            assert f.read(len(block) + 4) == block + b"tail"
            assert vol.status == "in-use"
        assert vol.refresh().status == "available"
        # What went over iSCSI is in the backend's file.
        with open(vol.local_path(), "rb") as raw:
            raw.seek(3 << 20)
            assert raw.read(len(block) + 4) == block + b"tail"
        with vol.attach(mode="ro") as f:
            assert not f.writable()
            with pytest.raises(cinder.NotAuthorized):
                f.write(b"x")


def test_extend_while_attached(tmp_path, tgtd):
    """An in-use volume grows (3.42): its target is made again, and the open file sees the new
    size once it asks."""
    backend = {"name": "iscsi", "target_helper": "tgtadm", "target_ip_address": "127.0.0.1",
               "target_port": tgtd["TGTD_PORT"], "tgt_ipc_socket": tgtd["TGT_IPC_SOCKET"]}
    with cinder.open(state_path=str(tmp_path / "state"), backends=[backend]) as svc:
        vol = svc.create_volume(1).wait()
        with vol.attach() as f:
            f.write(b"kept")
            assert vol.extend(2).wait(timeout=60).size == 2
            assert vol.status == "in-use"
            f.seek(0)
            assert f.read(4) == b"kept"
        with vol.attach() as f:
            assert f.size == 2 << 30
