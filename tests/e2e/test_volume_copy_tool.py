"""cinder-volume-copy through a real tgtd (scripts/tgtd-harness.sh) and on a local file."""
import json
import os
import subprocess

import pytest

from conftest import BIN, ROOT

HARNESS = os.path.join(ROOT, "scripts", "tgtd-harness.sh")
TOOL = os.path.join(BIN, "cinder-volume-copy")
SIZE = 8 << 20
PASSWORD = "CopyToolPw0123"


@pytest.fixture(scope="module")
def tgtd(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tgtd"))
    subprocess.run([HARNESS, "start", d], check=True, capture_output=True)
    if os.path.exists(os.path.join(d, "unavailable")):
        pytest.skip(open(os.path.join(d, "unavailable")).read().strip())
    env = dict(os.environ, TGT_IPC_SOCKET=open(os.path.join(d, "socket")).read().strip())
    yield {"port": int(open(os.path.join(d, "port")).read()), "env": env}
    subprocess.run([HARNESS, "stop", d], check=True)


def tgtadm(tgtd, *args):
    subprocess.run(["tgtadm", "--lld", "iscsi", *args], check=True, env=tgtd["env"], capture_output=True)


@pytest.fixture
def target(tgtd, tmp_path):
    backing = tmp_path / "backing"
    backing.write_bytes(b"\0" * SIZE)
    tid, iqn, user = "7", "iqn.2026-12.org.libcinder.test:copy-tool", "copytool"
    tgtadm(tgtd, "--mode", "target", "--op", "new", "--tid", tid, "--targetname", iqn)
    tgtadm(tgtd, "--mode", "logicalunit", "--op", "new", "--tid", tid, "--lun", "1", "--backing-store", str(backing))
    tgtadm(tgtd, "--mode", "account", "--op", "new", "--user", user, "--password", PASSWORD)
    tgtadm(tgtd, "--mode", "account", "--op", "bind", "--tid", tid, "--user", user)
    tgtadm(tgtd, "--mode", "target", "--op", "bind", "--tid", tid, "--initiator-address", "ALL")
    info = {"driver_volume_type": "iscsi", "target_portal": f"127.0.0.1:{tgtd['port']}", "target_iqn": iqn,
            "target_lun": 1, "auth_method": "CHAP", "auth_username": user, "auth_password": PASSWORD,
            "access_mode": "rw"}
    yield {"info": info, "backing": backing}
    tgtadm(tgtd, "--mode", "target", "--op", "delete", "--force", "--tid", tid)
    tgtadm(tgtd, "--mode", "account", "--op", "delete", "--user", user)


def copy(info, *args, data=None):
    return subprocess.run([TOOL, "--connection-info", json.dumps(info), *args], input=data, capture_output=True,
                          timeout=60)


def test_write_from_stdin_and_read_to_stdout_through_iscsi(target):
    data = os.urandom(3 * 1024 * 1024 + 777)
    res = copy(target["info"], "--write", "--offset", "4097", "--block-size", "256K", "--queue-depth", "4", data=data)
    assert res.returncode == 0, res.stderr
    assert res.stderr == b""  # no progress line when stderr is not a terminal
    on_disk = target["backing"].read_bytes()
    assert on_disk[4097:4097 + len(data)] == data
    assert on_disk[:4097] == b"\0" * 4097
    res = copy(target["info"], "--read", "--offset", "4097", "--length", str(len(data)))
    assert res.returncode == 0, res.stderr
    assert res.stdout == data
    whole = copy(target["info"], "--read")
    assert whole.stdout == on_disk


def test_too_much_input_fails_clearly(target):
    res = copy(target["info"], "--write", data=b"x" * (SIZE + 1))
    assert res.returncode != 0
    assert b"larger than the volume" in res.stderr


def test_wrong_password_fails_with_one_clear_line(target):
    info = dict(target["info"], auth_password="WrongPassword99")
    res = copy(info, "--read", "--output", os.devnull)
    assert res.returncode == 1
    err = res.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("cinder-volume-copy: ")
    assert "CHAP" in err and info["target_iqn"] in err
    assert "WrongPassword99" not in err and PASSWORD not in err


def test_read_only_attachment_refuses_writes(target):
    info = dict(target["info"], access_mode="ro")
    res = copy(info, "--write", data=b"y" * 4096)
    assert res.returncode == 1
    assert b"read-only" in res.stderr
    assert target["backing"].read_bytes() == b"\0" * SIZE


def test_local_file_round_trip(tmp_path):
    vol = tmp_path / "vol"
    vol.write_bytes(b"\0" * (1 << 20))
    info = {"driver_volume_type": "local", "data": {"device_path": str(vol)}}
    data = os.urandom(300000)
    src = tmp_path / "src"
    src.write_bytes(data)
    res = subprocess.run([TOOL, "-c", json.dumps(info), "--write", "--input", str(src), "--offset", "1000"],
                         capture_output=True)
    assert res.returncode == 0, res.stderr
    assert vol.read_bytes()[1000:301000] == data
    out = tmp_path / "out"
    res = subprocess.run([TOOL, "-c", json.dumps(info), "--read", "--output", str(out), "--offset", "1000",
                          "--length", "300000"], capture_output=True)
    assert res.returncode == 0, res.stderr
    assert out.read_bytes() == data


def test_bad_command_lines_exit_2():
    assert subprocess.run([TOOL, "--read"], capture_output=True).returncode == 2
    assert subprocess.run([TOOL, "-c", "{}", "--read", "--write"], capture_output=True).returncode == 2
    res = subprocess.run([TOOL, "-c", '{"driver_volume_type": "nfs"}', "--read"], capture_output=True)
    assert res.returncode == 1 and b"not supported" in res.stderr
    assert subprocess.run([TOOL, "--version"], capture_output=True).returncode == 0
