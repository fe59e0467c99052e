"""Joining a running distributed deployment: cinder-scheduler, cinder-volume and cinder-backup
as separate processes (sharing a SQLite database, talking over ZeroMQ with CURVE, the services
table as their directory), and the module as their API side: cinder.open(config_file=...)."""
import os
import subprocess
import sys
import time

import pytest

import cinder
from conftest import BIN_DIR, SOURCE_DIR

DAEMONS = ("cinder-scheduler", "cinder-volume", "cinder-backup")


@pytest.fixture
def deployment(tmp_path, request):
    """The deployment's cinder.conf; a test's indirect parameter adds [DEFAULT] options."""
    extra = getattr(request, "param", "")
    if not all(os.access(os.path.join(BIN_DIR, d), os.X_OK) for d in DAEMONS + ("cinder-manage",)):
        pytest.skip(f"the daemons are not built in {BIN_DIR}")
    key = tmp_path / "transport.key"
    subprocess.run([os.path.join(BIN_DIR, "cinder-manage"), "transport", "keygen", "--output", str(key)],
                   check=True, capture_output=True)
    conf = tmp_path / "cinder.conf"
    conf.write_text(f"""[DEFAULT]
host = pyhost
state_path = {tmp_path}/state
transport_key_file = {key}
report_interval = 1
osapi_volume_listen_port = 0
enabled_backends = file
{extra}[database]
connection = sqlite:///{tmp_path}/cinder.sqlite
[file]
volume_driver = file
volume_backend_name = file
file_volume_directory = {tmp_path}/volumes
""")
    subprocess.run([os.path.join(BIN_DIR, "cinder-manage"), "--config-file", str(conf), "db", "sync"], check=True,
                   capture_output=True)
    procs = {}
    for d in DAEMONS:
        log = open(tmp_path / f"{d}.log", "w")
        procs[d] = subprocess.Popen([os.path.join(BIN_DIR, d), "--config-file", str(conf)], stdout=log,
                                    stderr=subprocess.STDOUT)
    try:
        # Up once each has registered in the services table (and heard from).
        deadline = time.time() + 20
        with cinder.open(config_file=str(conf)) as svc:
            while time.time() < deadline:
                up = {s["binary"] for s in svc.services() if s["state"] == "up"}
                if up >= set(DAEMONS):
                    break
                for d, p in procs.items():
                    assert p.poll() is None, f"{d} exited: {(tmp_path / f'{d}.log').read_text()[-2000:]}"
                time.sleep(0.1)
            else:
                pytest.fail(f"services not up: {svc.services()}")
        yield conf
    finally:
        for p in procs.values():
            p.terminate()
        for d, p in procs.items():
            assert p.wait(timeout=20) == 0, f"{d} did not stop cleanly"


def test_join_deployment(deployment):
    with cinder.open(config_file=str(deployment)) as svc:
        assert not svc.embedded and svc.endpoint is None
        vol = svc.create_volume(1, name="remote").wait(timeout=30)
        assert vol.status == "available" and vol.host == "pyhost@file#file"
        snap = vol.create_snapshot(name="s").wait(timeout=30)
        copy = snap.create_volume(name="copy").wait(timeout=30)
        vol.extend(2).wait(timeout=30)
        assert vol.size == 2
        with vol.attach() as f:  # the volume host exports it; the connector opens it here
            f.write(b"over zeromq")
        progress = []
        backup = vol.backup(name="b").wait(timeout=60, progress=lambda d, t: progress.append((d, t)))
        assert backup.status == "available" and progress[-1] == (2 << 30, 2 << 30)
        assert sorted(v.name for v in svc.volumes()) == ["copy", "remote"]
        with pytest.raises(cinder.NotFound):
            svc.get_volume("nope")
        backup.delete().wait(timeout=60)
        copy.delete().wait(timeout=30)
        snap.delete().wait(timeout=30)
        vol.delete().wait(timeout=30)
        assert list(svc.volumes()) == []


def test_groups_transfers_and_manage_through_a_deployment(deployment):
    """The group, transfer and manage calls reach the scheduler and volume host over ZeroMQ."""
    with cinder.open(config_file=str(deployment)) as svc:
        gt = svc.create_group_type("gt", group_specs={"consistent_group_snapshot_enabled": "<is> True"})
        group = svc.create_group(gt, [svc.get_volume_type("default")], name="g").wait(timeout=30)
        assert group.status == "available" and group.host == "pyhost@file#file"
        a, b = (group.create_volume(1, name=n).wait(timeout=30) for n in ("a", "b"))
        gsnap = group.create_snapshot().wait(timeout=30)
        assert sorted(s.volume_id for s in gsnap.snapshots()) == sorted([a.id, b.id])
        copy = gsnap.create_group(name="copy").wait(timeout=60)
        assert len(copy.refresh().volumes) == 2
        gsnap.delete().wait(timeout=30)
        for g in (copy, group):
            g.delete(delete_volumes=True).wait(timeout=60)
        assert list(svc.volumes()) == []

        vol = svc.create_volume(1, name="moved").wait(timeout=30)
        transfer = vol.transfer()
        transfer.accept(project_id="p2")
        assert svc.for_project("p2").get_volume(vol.id).project_id == "p2"
        vol = svc.for_project("p2").get_volume(vol.id)
        vol.unmanage().wait(timeout=30)
        (entry,) = [e for e in svc.manageable_volumes(host="pyhost@file") if e["safe_to_manage"]]
        managed = svc.manage_volume(entry["reference"]["source-name"], host="pyhost@file").wait(timeout=30)
        assert managed.status == "available" and managed.size == 1
        managed.delete().wait(timeout=30)


# One compressing thread at zlib's pace: the backup lasts a few of the backup service's progress
# records (every 2 s) on a fast machine too.
@pytest.mark.parametrize("deployment", ["backup_workers = 1\nbackup_compression_algorithm = zlib\n"], indirect=True,
                         ids=["zlib-one-thread"])
def test_backup_progress_crosses_the_transport(deployment):
    """The backup service runs in another process: its progress reaches wait(progress=...) through
    the bytes done it records in the backup's row."""
    with cinder.open(config_file=str(deployment)) as svc:
        vol = svc.create_volume(1, name="big").wait(timeout=30)
        with vol.attach() as f:
            for _ in range(256):  # 256 MiB that do not compress
                f.write(os.urandom(1 << 20))
        progress = []
        backup = vol.backup(name="big").wait(timeout=300, progress=lambda d, t: progress.append((d, t)))
        assert backup.status == "available"
        total = 1 << 30
        assert progress[-1] == (total, total)
        assert len(progress) >= 2, progress  # at least one report while it ran, then the end
        assert all(t == total for _, t in progress)
        done = [d for d, _ in progress]
        assert done == sorted(done) and len(set(done)) == len(done), progress  # increasing
        assert 0 < done[0] < total

        progress.clear()
        restored = backup.restore(name="restored").wait(timeout=300, progress=lambda d, t: progress.append((d, t)))
        assert restored.status == "available" and progress[-1] == (total, total)
        done = [d for d, _ in progress]
        assert done == sorted(done) and len(set(done)) == len(done) and 0 < done[0], progress
        restored.delete().wait(timeout=30)
        backup.delete().wait(timeout=60)
        vol.delete().wait(timeout=30)


def test_examples_join_deployment(deployment):
    r = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "examples", "provision_projects.py"),
                        "--config-file", str(deployment), "--count", "4", "p1", "p2"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "p1: 4 volumes, 4 GiB: p1-0 p1-1 p1-2 p1-3" in r.stdout
    with cinder.open(config_file=str(deployment), project_id="p2") as svc:
        vol = next(iter(svc.volumes(name="p2-0")))
    r = subprocess.run([sys.executable, os.path.join(SOURCE_DIR, "examples", "read_volume.py"),
                        "--config-file", str(deployment), "--project", "p2", vol.id, "--length", "16"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("00000000  00 00 00")


def test_missing_key_is_reported(tmp_path):
    conf = tmp_path / "cinder.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\ntransport_key_file = {tmp_path}/none.key\n")
    with pytest.raises(cinder.Error, match="transport keygen"):
        cinder.open(config_file=str(conf))
