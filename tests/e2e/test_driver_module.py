"""A volume driver from outside the library, in a shared object that cinder.conf names
(volume_driver_module): examples/plain_driver built as bin/libcinder_plain_driver.so. Through the
stock client: volumes, snapshots, volumes from snapshots and clones land in its directory."""
import os
import subprocess

import pytest

from conftest import BIN, start_service, stop_service

MODULE = os.path.join(BIN, "libcinder_plain_driver.so")


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    state = tmp_path_factory.mktemp("plain")
    backends = {"plain-1": f"volume_driver = plain\nvolume_driver_module = {MODULE}\n"
                           f"plain_directory = {state}/plain\n"}
    proc, svc = start_service(state, backends=backends)
    svc.plain_dir = os.path.join(str(state), "plain")
    yield svc
    stop_service(proc)


def test_a_driver_module_holds_volumes_snapshots_and_copies(plain):
    vol = plain.cinder_table("create", "--name", "on-plain", "1")
    assert plain.wait_status(vol["id"], ["available", "error"]) == "available"
    shown = plain.cinder_table("show", vol["id"])
    assert shown["os-vol-host-attr:host"].endswith("@plain-1#plain-1")
    path = os.path.join(plain.plain_dir, f"volume-{vol['id']}.img")
    assert os.path.getsize(path) == 1 << 30
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(b"written before the snapshot")

    snap = plain.cinder_table("snapshot-create", "--name", "s", vol["id"])
    assert plain.wait_status(snap["id"], ["available", "error"], kind="snapshot") == "available"
    assert os.path.exists(os.path.join(plain.plain_dir, f"snapshot-{snap['id']}.img"))
    with open(path, "r+b") as f:
        f.seek(4096)
        f.write(b"written after the snapshot!")

    from_snap = plain.cinder_table("create", "--snapshot-id", snap["id"], "2")
    clone = plain.cinder_table("create", "--source-volid", vol["id"], "1")
    for v in (from_snap, clone):
        assert plain.wait_status(v["id"], ["available", "error"]) == "available"
    with open(os.path.join(plain.plain_dir, f"volume-{from_snap['id']}.img"), "rb") as f:
        f.seek(4096)
        assert f.read(27) == b"written before the snapshot"
    assert os.path.getsize(os.path.join(plain.plain_dir, f"volume-{from_snap['id']}.img")) == 2 << 30
    with open(os.path.join(plain.plain_dir, f"volume-{clone['id']}.img"), "rb") as f:
        f.seek(4096)
        assert f.read(27) == b"written after the snapshot!"

    plain.cinder("extend", vol["id"], "3")
    assert plain.wait_status(vol["id"], ["available", "error"]) == "available"
    assert os.path.getsize(path) == 3 << 30

    plain.cinder("snapshot-delete", snap["id"])
    assert plain.wait_status(snap["id"], ["deleted"], kind="snapshot") == "deleted"
    for v in (from_snap, clone, vol):
        plain.cinder("delete", v["id"])
        assert plain.wait_status(v["id"], ["deleted"]) == "deleted"
    assert os.listdir(plain.plain_dir) == []


def conf_with(tmp_path, section):
    conf = tmp_path / "cinder.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\nenabled_backends = m\n[m]\n{section}")
    subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", str(conf), "db", "sync"], check=True)
    return str(conf)


@pytest.mark.parametrize("section, message", [
    (f"volume_driver = plain\nvolume_driver_module = /nonexistent/libx.so\n",
     "[m] volume_driver_module /nonexistent/libx.so: cannot be loaded: /nonexistent/libx.so: cannot open"),
    (f"volume_driver = plain\nvolume_driver_module = libcinder_plain_driver.so\n",
     "[m] volume_driver_module libcinder_plain_driver.so: give the module's absolute path"),
    (f"volume_driver = plain\nvolume_driver_module = {BIN}/libcinder_ldap.so\n",
     "not a volume driver module (no CINDER_VOLUME_DRIVER_MODULE in it)"),
    (f"volume_driver = acme\nvolume_driver_module = {MODULE}\n",
     "[m] volume_driver: unknown driver 'acme' (its volume_driver_module adds: plain)"),
    (f"volume_driver = plain\nvolume_driver_module = {MODULE}\nplain_dir = /tmp\n",
     "[m] plain_dir: unknown option for volume driver 'plain'"),
])
def test_a_bad_driver_module_stops_the_service_with_what_to_fix(tmp_path, section, message):
    conf = conf_with(tmp_path, section)
    res = subprocess.run([os.path.join(BIN, "cinder-all"), "--config-file", conf], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode != 0
    assert message in res.stdout + res.stderr, res.stdout + res.stderr
