"""cinder-backup as its own process on another host: it reads the volume over iSCSI (a real tgtd
exports it from the volume host), restores into a new volume the same way, and a backup host
killed with SIGKILL mid-backup leaves nothing stuck once it is back."""
import hashlib
import os
import time

import pytest

from test_attach import harness, read_env, tgt_targets
from test_distributed import Cluster

MiB = 1024 ** 2


class BackupCluster(Cluster):
    """The distributed cluster, with each daemon's [DEFAULT] extras (the backup options)."""

    defaults = ""

    def conf(self, name, host, backend, backend_extra=""):
        path = super().conf(name, host, backend, backend_extra)
        text = open(path).read().replace("[DEFAULT]\n", "[DEFAULT]\n" + self.defaults, 1)
        with open(path, "w") as f:
            f.write(text)
        return path


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(8 * MiB), b""):
            h.update(chunk)
    return h.hexdigest()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tgtd = str(tmp_path_factory.mktemp("tgtd"))
    r = harness("start", tgtd)
    assert r.returncode == 0, r.stdout + r.stderr
    if os.path.exists(os.path.join(tgtd, "unavailable")):
        pytest.skip("tgtd is not installed here: " + open(os.path.join(tgtd, "unavailable")).read())
    env = read_env(tgtd)
    c = BackupCluster(str(tmp_path_factory.mktemp("bkdist")))
    c.tgtd = tgtd
    # One backup store for every backup host (as an NFS share would be).
    c.defaults = (f"backup_posix_path = {c.tmp}/backup-store\nbackup_compression_algorithm = bz2\n"
                  "backup_workers = 1\n")
    c.export = (f"target_helper = tgtadm\ntarget_ip_address = 127.0.0.1\ntarget_port = {env['TGTD_PORT']}\n"
                f"tgt_ipc_socket = {env['TGT_IPC_SOCKET']}\n")
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("v1", "cinder-volume", "vol1", "fast", c.export + f"volumes_dir = {c.tmp}/v1/targets\n")
        c.start("b1", "cinder-backup", "backuphost")
        c.start("api", "cinder-api", "apihost")
        yield c
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()
        harness("stop", tgtd)


def backup(cluster, backup_id):
    code, body = cluster.request("GET", f"/backups/{backup_id}")
    return body["backup"] if code == 200 else None


def new_volume(cluster, data):
    code, body = cluster.request("POST", "/volumes", {"volume": {"size": 1}})
    assert code == 202, body
    vol = body["volume"]["id"]
    cluster.wait(lambda: cluster.volume(vol)["status"] == "available", 30, "the volume")
    path = os.path.join(cluster.tmp, "v1", "volumes", "fast", f"volume-{vol}")
    with open(path, "r+b") as f:
        for off, chunk in data.items():
            f.seek(off)
            f.write(chunk)
    return vol, path


def test_backup_host_reads_and_restores_over_iscsi(cluster):
    services = cluster.services()
    assert services[("cinder-backup", "backuphost")] == "up"
    vol, path = new_volume(cluster, {0: os.urandom(MiB), 700 * MiB: os.urandom(2 * MiB)})
    image = sha256_of(path)
    code, body = cluster.request("POST", "/backups", {"backup": {"volume_id": vol, "name": "remote"}})
    assert code == 202, body
    bid = body["backup"]["id"]
    cluster.wait(lambda: backup(cluster, bid)["status"] in ("available", "error"), 120, "the backup")
    done = backup(cluster, bid)
    assert done["status"] == "available", done
    assert cluster.volume(vol)["status"] == "available"
    # No export of the volume is left behind for the backup host.
    assert f"volume-{vol}" not in tgt_targets(cluster.tgtd)

    code, body = cluster.request("POST", f"/backups/{bid}/restore", {"restore": {"name": "back-again"}})
    assert code == 202, body
    restored = body["restore"]["volume_id"]
    cluster.wait(lambda: cluster.volume(restored)["status"] in ("available", "error", "error_restoring"), 120,
                 "the restore")
    assert cluster.volume(restored)["status"] == "available"
    assert sha256_of(os.path.join(cluster.tmp, "v1", "volumes", "fast", f"volume-{restored}")) == image


def test_killed_backup_host_leaves_nothing_stuck(cluster):
    vol, _ = new_volume(cluster, {0: os.urandom(192 * MiB)})
    code, body = cluster.request("POST", "/backups", {"backup": {"volume_id": vol}})
    assert code == 202, body
    bid = body["backup"]["id"]
    cluster.wait(lambda: backup(cluster, bid)["status"] == "creating" and
                 any(bid in n for _, _, files in os.walk(os.path.join(cluster.tmp, "backup-store")) for n in files),
                 60, "the backup under way")
    cluster.kill9("b1")
    time.sleep(0.5)
    cluster.start("b1", "cinder-backup", "backuphost")
    cluster.wait(lambda: backup(cluster, bid)["status"] != "creating", 30, "the backup reset")
    after = backup(cluster, bid)
    assert after["status"] == "error" and "incomplete backup reset on manager restart" in after["fail_reason"]
    cluster.wait(lambda: cluster.volume(vol)["status"] == "available", 30, "the volume back")
    leftovers = [n for _, _, files in os.walk(os.path.join(cluster.tmp, "backup-store")) for n in files
                 if bid in n]
    assert leftovers == []
