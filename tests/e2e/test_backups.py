"""Backups through the stock cinder client: full and incremental backups, restores to new and
existing volumes compared byte for byte (sparse volumes included), export and import of a
record, quotas, and the faults that must end in a known state (a full backup store, a corrupt
object, the backup service killed mid-backup)."""
import hashlib
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import BIN, PROJECT, run_cinder, start_service, stop_service, table_rows

MiB = 1024 ** 2
GiB = 1024 ** 3


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(8 * MiB)
            if not chunk:
                return h.hexdigest()
            h.update(chunk)


def write_at(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def backup_of(svc, backup_id):
    code, body, _ = svc.request("GET", svc.url(f"/backups/{backup_id}"))
    return body["backup"] if code == 200 else None


def wait_backup(svc, backup_id, statuses, timeout=60):
    """Waits until the backup is in one of `statuses` ("deleted": gone) and returns it."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = backup_of(svc, backup_id)
        if last is None and "deleted" in statuses:
            return {"status": "deleted"}
        if last is not None and last["status"] in statuses:
            return last
        time.sleep(0.05)
    raise AssertionError(f"backup {backup_id} did not reach {statuses}: {last}")


def volume_file(svc, vol_id):
    return os.path.join(svc.volume_dir, f"volume-{vol_id}")


def new_volume(svc, size_gb, name):
    vol_id = svc.cinder_table("create", "--name", name, str(size_gb))["id"]
    assert svc.wait_status(vol_id, ["available"]) == "available"
    return vol_id


def create_backup(svc, vol_id, *args):
    shown = svc.cinder_table("backup-create", *args, vol_id)
    backup = wait_backup(svc, shown["id"], ["available", "error"])
    assert backup["status"] == "available", backup
    return backup


def restore_new(svc, backup_id, name):
    """backup-restore --name: a new volume; returns its id once it is available."""
    out = svc.cinder_table("backup-restore", "--name", name, backup_id)
    assert out["backup_id"] == backup_id
    assert svc.wait_status(out["volume_id"], ["available", "error", "error_restoring"], timeout=60) == "available"
    return out["volume_id"]


def allocated(path):
    return os.stat(path).st_blocks * 512


def backup_objects(root):
    """Every object file under a backup store (not the directories)."""
    found = []
    for dirpath, _, files in os.walk(root):
        found += [os.path.join(dirpath, f) for f in files]
    return found


def test_full_incremental_and_restores_are_byte_exact(service):
    vol = new_volume(service, 1, "bk-src")
    path = volume_file(service, vol)
    # A sparse volume: three written extents, the rest holes.
    extents = [(0, os.urandom(3 * MiB)), (300 * MiB, os.urandom(MiB) + bytes(MiB) + os.urandom(MiB)),
               (GiB - MiB, os.urandom(MiB))]
    for off, data in extents:
        write_at(path, off, data)
    full_image = sha256_of(path)

    full = create_backup(service, vol, "--name", "bk-full", "--description", "first")
    assert full["is_incremental"] is False and full["size"] == 1 and full["object_count"] > 0
    assert full["name"] == "bk-full" and full["description"] == "first" and full["volume_id"] == vol
    assert service.wait_status(vol, ["available"]) == "available"  # back from backing-up
    listing = service.cinder("backup-list").stdout
    assert full["id"] in listing and "bk-full" in listing

    # Different data, then an incremental that stores only what changed.
    write_at(path, 5 * MiB, os.urandom(64 * 1024))
    write_at(path, 500 * MiB, os.urandom(100 * 1024))
    write_at(path, 0, bytes(32 * 1024))  # data turned into zeros must restore as zeros
    inc_image = sha256_of(path)
    inc = create_backup(service, vol, "--incremental", "--name", "bk-inc")
    assert inc["is_incremental"] is True
    assert inc["object_count"] < full["object_count"] or inc["object_count"] <= 8
    assert wait_backup(service, full["id"], ["available"])["has_dependent_backups"] is True

    # Each restored to a new volume (backup-restore --name), byte for byte, and still sparse.
    r_full = restore_new(service, full["id"], "r-full")
    assert sha256_of(volume_file(service, r_full)) == full_image
    assert allocated(volume_file(service, r_full)) < 64 * MiB
    shown = service.cinder_table("show", r_full)
    assert shown["name"] == "r-full"
    r_inc = restore_new(service, inc["id"], "r-inc")
    assert sha256_of(volume_file(service, r_inc)) == inc_image
    assert allocated(volume_file(service, r_inc)) < 64 * MiB

    # cinder create --backup-id (3.47): a new volume restored from the chain.
    created = service.cinder_table("--os-volume-api-version", "3.47", "create", "--backup-id", inc["id"],
                                   "--name", "from-backup", "1")
    assert service.wait_status(created["id"], ["available", "error"], timeout=60) == "available"
    assert sha256_of(volume_file(service, created["id"])) == inc_image

    # Onto an existing volume full of other bytes: every byte is the backup's, zeros included.
    target = new_volume(service, 1, "bk-target")
    write_at(volume_file(service, target), 100 * MiB, os.urandom(4 * MiB))
    write_at(volume_file(service, target), 301 * MiB, b"\xff" * MiB)  # where the backup has zeros
    out = service.cinder_table("backup-restore", "--volume", target, full["id"])
    assert out["volume_id"] == target
    assert service.wait_status(target, ["available", "error_restoring"], timeout=60) == "available"
    assert sha256_of(volume_file(service, target)) == full_image
    assert wait_backup(service, full["id"], ["available"])["status"] == "available"

    # The parent cannot go while its incremental exists; the incremental first, then the parent.
    res = service.cinder("backup-delete", full["id"], check=False)
    assert res.returncode != 0 and "Incremental backups exist for this backup." in res.stdout + res.stderr
    service.cinder("backup-delete", inc["id"])
    wait_backup(service, inc["id"], ["deleted"])
    service.cinder("backup-delete", full["id"])
    wait_backup(service, full["id"], ["deleted"])
    assert backup_objects(os.path.join(service.state, "backup")) == []
    for v in (vol, r_full, r_inc, created["id"], target):
        service.cinder("delete", v)


def test_update_show_and_list_filters(service):
    vol = new_volume(service, 1, "bk-meta")
    write_at(volume_file(service, vol), 0, os.urandom(MiB))
    b = create_backup(service, vol, "--name", "before")
    service.cinder("--os-volume-api-version", "3.9", "backup-update", "--name", "after",
                   "--description", "renamed", b["id"])
    shown = service.cinder_table("backup-show", b["id"])
    assert shown["name"] == "after" and shown["description"] == "renamed" and shown["status"] == "available"
    assert shown["volume_id"] == vol
    rows = table_rows(service.cinder("backup-list", "--name", "after").stdout)
    assert [r["ID"] for r in rows] == [b["id"]]
    rows = table_rows(service.cinder("backup-list", "--volume-id", vol, "--status", "available").stdout)
    assert [r["ID"] for r in rows] == [b["id"]]
    service.cinder("backup-delete", "after")  # by name
    wait_backup(service, b["id"], ["deleted"])
    service.cinder("delete", vol)


def test_export_delete_import_restore(service):
    vol = new_volume(service, 1, "bk-export")
    write_at(volume_file(service, vol), 7 * MiB, os.urandom(2 * MiB))
    image = sha256_of(volume_file(service, vol))
    b = create_backup(service, vol, "--name", "exported")
    record = service.cinder_table("backup-export", b["id"])
    assert record["backup_service"] == "cinder.backup.drivers.posix.PosixBackupDriver"
    decoded = json.loads(__import__("base64").b64decode(record["backup_url"]))
    assert decoded["id"] == b["id"] and decoded["size"] == 1 and decoded["volume_id"] == vol

    # Importing a backup that still exists is refused.
    res = service.cinder("backup-import", record["backup_service"], record["backup_url"], check=False)
    assert res.returncode != 0 and "Backup already exists in database." in res.stderr

    # The database forgets it; the objects stay (a record, not the data, was deleted)... so keep
    # a copy of the objects, delete, and put them back, as an operator moving a backup would.
    root = os.path.join(service.state, "backup")
    saved = {p: open(p, "rb").read() for p in backup_objects(root)}
    assert saved
    service.cinder("backup-delete", b["id"])
    wait_backup(service, b["id"], ["deleted"])
    for p, data in saved.items():
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    imported = service.cinder_table("backup-import", record["backup_service"], record["backup_url"])
    assert imported["id"] == b["id"]
    again = wait_backup(service, b["id"], ["available", "error"])
    assert again["status"] == "available" and again["size"] == 1
    restored = restore_new(service, b["id"], "from-import")
    assert sha256_of(volume_file(service, restored)) == image

    # A record that is not one.
    res = service.cinder("backup-import", record["backup_service"], "bm90IGpzb24=", check=False)
    assert res.returncode != 0 and "(HTTP 400)" in res.stderr
    service.cinder("backup-delete", b["id"])
    wait_backup(service, b["id"], ["deleted"])
    for v in (vol, restored):
        service.cinder("delete", v)


def test_quotas_count_backups(service):
    vol = new_volume(service, 2, "bk-quota")
    service.cinder("quota-update", PROJECT, "--backups", "1", "--backup-gigabytes", "1000")
    try:
        b = create_backup(service, vol)
        res = service.cinder("backup-create", vol, check=False)
        assert res.returncode != 0
        assert "Maximum number of backups allowed (1) exceeded" in res.stderr and "(HTTP 413)" in res.stderr
        usage = {r["Type"]: r for r in table_rows(service.cinder("quota-usage", PROJECT).stdout)}
        assert usage["backups"]["In_use"] == "1" and usage["backup_gigabytes"]["In_use"] == "2"

        service.cinder("quota-update", PROJECT, "--backups", "10", "--backup-gigabytes", "3")
        res = service.cinder("backup-create", vol, check=False)
        assert res.returncode != 0 and "(HTTP 413)" in res.stderr
        assert "Requested backup exceeds allowed Backup gigabytes quota. Requested 2G, quota is 3G and 2G " \
               "has been consumed." in res.stderr

        service.cinder("backup-delete", b["id"])
        wait_backup(service, b["id"], ["deleted"])
        usage = {r["Type"]: r for r in table_rows(service.cinder("quota-usage", PROJECT).stdout)}
        assert usage["backups"]["In_use"] == "0" and usage["backup_gigabytes"]["In_use"] == "0"
    finally:
        service.cinder("quota-update", PROJECT, "--backups", "10", "--backup-gigabytes", "1000")
    service.cinder("delete", vol)


def test_bad_requests_answer_cinders_errors(service):
    vol = new_volume(service, 1, "bk-bad")
    res = service.cinder("backup-create", "--incremental", vol, check=False)
    assert res.returncode != 0 and "No backups available to do an incremental backup." in res.stderr
    code, body, _ = service.request("POST", service.url("/backups"),
                                    {"backup": {"volume_id": vol, "force": "maybe"}})
    assert code == 400 and "badRequest" in body
    code, body, _ = service.request("GET", service.url("/backups/00000000-0000-0000-0000-00000000dead"))
    assert code == 404 and "could not be found" in body["itemNotFound"]["message"]
    code, body, _ = service.request("POST", service.url("/backups"),
                                    {"backup": {"volume_id": vol, "container": "../../etc"}})
    assert code == 400
    service.cinder("delete", vol)


def test_corrupt_object_fails_the_restore_naming_it(service):
    vol = new_volume(service, 1, "bk-corrupt")
    write_at(volume_file(service, vol), 0, os.urandom(8 * MiB))
    b = create_backup(service, vol, "--name", "to-corrupt")
    # The data objects (<prefix>-00001, ...), not the JSON files or the fingerprints.
    objects = sorted(p for p in backup_objects(os.path.join(service.state, "backup"))
                     if b["id"] in p and re.search(r"-\d{5,}$", p))
    assert objects
    victim = objects[0]
    data = bytearray(open(victim, "rb").read())
    data[len(data) // 2] ^= 0xFF
    with open(victim, "wb") as f:
        f.write(bytes(data))

    target = new_volume(service, 1, "bk-corrupt-target")
    service.cinder("backup-restore", "--volume", target, b["id"])
    assert service.wait_status(target, ["available", "error_restoring"], timeout=60) == "error_restoring"
    after = wait_backup(service, b["id"], ["available", "error"])
    assert after["status"] == "available"  # the backup itself is not changed by a failed restore
    # The user is told which object is bad (the backup's fail_reason, or a user message).
    code, msgs, _ = service.request("GET", service.url("/messages"))
    said = json.dumps(msgs) + str(after.get("fail_reason"))
    assert os.path.basename(victim) in said, said
    service.cinder("reset-state", "--state", "available", target)
    service.cinder("backup-delete", b["id"])
    wait_backup(service, b["id"], ["deleted"])
    for v in (vol, target):
        service.cinder("delete", v)


@pytest.fixture
def small_store(tmp_path):
    mnt = tmp_path / "store"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("a 16 MiB tmpfs cannot be mounted here (needs root and CAP_SYS_ADMIN)")
    yield str(mnt)
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_backup_store_ends_in_error_and_leaves_nothing(tmp_path, small_store):
    (tmp_path / "state").mkdir()
    proc, svc = start_service(tmp_path / "state", extra=f"backup_posix_path = {small_store}\n"
                              "backup_compression_algorithm = none\n")
    try:
        vol = new_volume(svc, 1, "too-big")
        write_at(volume_file(svc, vol), 0, os.urandom(64 * MiB))  # incompressible, 4x the store
        b = svc.cinder_table("backup-create", vol)
        failed = wait_backup(svc, b["id"], ["available", "error"])
        assert failed["status"] == "error"
        assert "No space left on device" in failed["fail_reason"]
        assert svc.wait_status(vol, ["available"]) == "available"
        assert backup_objects(small_store) == []
        # An error backup can be deleted, and gives its quota back.
        svc.cinder("backup-delete", b["id"])
        wait_backup(svc, b["id"], ["deleted"])
    finally:
        stop_service(proc)


def test_killed_backup_service_leaves_nothing_stuck(tmp_path):
    # bz2 on one worker makes a 256 MiB random volume take long enough to be killed mid-way.
    extra = "backup_compression_algorithm = bz2\nbackup_workers = 1\n"
    proc, svc = start_service(tmp_path, extra=extra)
    vol = new_volume(svc, 1, "killed")
    write_at(volume_file(svc, vol), 0, os.urandom(256 * MiB))
    b = svc.cinder_table("backup-create", vol)
    deadline = time.time() + 20
    while time.time() < deadline:
        now = backup_of(svc, b["id"])
        if now and now["status"] == "creating" and backup_objects(os.path.join(svc.state, "backup")):
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc, svc = start_service(tmp_path, extra=extra)
    try:
        after = wait_backup(svc, b["id"], ["error", "available"], timeout=30)
        assert after["status"] == "error", after  # killed mid-way: reset by the restarted service
        assert "incomplete backup reset on manager restart" in after["fail_reason"]
        assert svc.wait_status(vol, ["available"]) == "available"
        assert [p for p in backup_objects(os.path.join(svc.state, "backup")) if b["id"] in p] == []
        code, body, _ = svc.request("GET", svc.url(f"/volumes/{vol}"))
        assert body["volume"]["status"] == "available"
    finally:
        stop_service(proc)


def test_reset_state_of_a_running_backup_gives_its_volume_back(tmp_path):
    # bz2 on one worker: a 256 MiB random volume backs up for many seconds, long enough to reset
    # it mid-way; the progress timer logs every second meanwhile.
    extra = "backup_compression_algorithm = bz2\nbackup_workers = 1\nbackup_timer_interval = 1\n"
    log_file = str(tmp_path / "cinder-all.log")
    proc, svc = start_service(tmp_path, extra=extra, log_file=log_file)
    try:
        vol = new_volume(svc, 1, "reset-me")
        write_at(volume_file(svc, vol), 0, os.urandom(256 * MiB))
        b = svc.cinder_table("backup-create", vol)
        deadline = time.time() + 30
        progress = []
        while time.time() < deadline and not progress:
            progress = [l for l in open(log_file) if f"backup {b['id']} of volume {vol}: " in l and "% done" in l]
            time.sleep(0.1)
        assert progress, "no progress line from the backup_timer_interval timer"
        assert backup_of(svc, b["id"])["status"] == "creating"
        assert svc.wait_status(vol, ["backing-up"]) == "backing-up"

        svc.cinder("backup-reset-state", "--state", "error", b["id"])
        # The volume is given back with the backup's change, not when (or if) the host notices.
        code, body, _ = svc.request("GET", svc.url(f"/volumes/{vol}"))
        assert body["volume"]["status"] == "available", body
        assert backup_of(svc, b["id"])["status"] == "error"
        # The backup host stops and removes what it wrote; the backup stays error and can go.
        deadline = time.time() + 15
        while time.time() < deadline and [p for p in backup_objects(os.path.join(svc.state, "backup"))
                                          if b["id"] in p]:
            time.sleep(0.1)
        assert [p for p in backup_objects(os.path.join(svc.state, "backup")) if b["id"] in p] == []
        assert backup_of(svc, b["id"])["status"] == "error"
        svc.cinder("backup-delete", b["id"])
        wait_backup(svc, b["id"], ["deleted"])
        # The volume backs up again.
        write_at(volume_file(svc, vol), 0, bytes(256 * MiB))
        create_backup(svc, vol)
    finally:
        stop_service(proc)
