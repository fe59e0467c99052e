"""Backups with progress, restores, and a volume attached as a file."""
import os
import threading

import pytest

import cinder

GIB = 1 << 30


def test_backup_progress_restore(svc):
    vol = svc.create_volume(1, name="src").wait()
    pattern = os.urandom(1 << 20)
    with vol.attach() as f:
        for off in range(0, 64 << 20, 4 << 20):  # 16 MiB of data across the first 64 MiB
            f.seek(off)
            f.write(pattern)
    calls = []
    me = threading.get_ident()
    backup = vol.backup(name="full")
    assert backup.status == "creating"
    backup.wait(timeout=60, progress=lambda done, total: calls.append((done, total, threading.get_ident())))
    assert backup.status == "available" and backup.name == "full" and backup.size == 1
    assert calls, "no progress reported"
    assert all(t == me for _, _, t in calls)  # on the waiting thread
    assert all(total == GIB for _, total, _ in calls)
    dones = [d for d, _, _ in calls]
    assert dones == sorted(dones) and dones[-1] == GIB
    assert [b.id for b in svc.backups()] == [backup.id]

    incremental = vol.backup(name="incr", incremental=True).wait(timeout=60)
    assert incremental.is_incremental and incremental.parent_id == backup.id

    restored_progress = []
    restored = backup.restore(name="restored")
    assert restored.name == "restored"
    restored.wait(timeout=60, progress=lambda d, t: restored_progress.append((d, t)))
    assert restored.status == "available" and restored.size == 1
    assert restored_progress and restored_progress[-1] == (GIB, GIB)
    with restored.attach(mode="ro") as f:
        f.seek(4 << 20)
        assert f.read(len(pattern)) == pattern
        assert not f.writable()
        with pytest.raises(cinder.NotAuthorized):
            f.write(b"x")

    with pytest.raises(cinder.InvalidState):
        backup.delete()  # an incremental depends on it
    incremental.delete().wait(timeout=60)
    assert incremental.status == "deleted"
    backup.delete().wait(timeout=60)
    assert list(svc.backups()) == []


def test_attach_file(svc):
    vol = svc.create_volume(1).wait()
    f = vol.attach()
    assert vol.status == "in-use" and vol.attach_status == "attached"
    assert vol.refresh().attachments[0]["attachment_id"] == f.attachment_id
    assert f.size == GIB and f.readable() and f.writable() and f.seekable()
    assert f.name.startswith("local ")
    assert f.write(b"hello, volume") == 13
    assert f.tell() == 13
    assert f.seek(0) == 0
    assert f.read(5) == b"hello"
    buf = bytearray(8)
    assert f.readinto(buf) == 8 and bytes(buf) == b", volume"
    assert f.seek(-4, 2) == GIB - 4
    assert f.read() == b"\0" * 4
    assert f.read(10) == b""  # at the end
    with pytest.raises(cinder.InvalidInput, match="past the volume's end"):
        f.write(b"12345")
    f.flush()
    with pytest.raises(cinder.InvalidState):
        vol.delete()  # in use
    f.close()
    assert f.closed
    with pytest.raises(ValueError):
        f.read(1)
    assert vol.refresh().status == "available" and vol.attachments == []
    with open(vol.local_path(), "rb") as raw:
        assert raw.read(13) == b"hello, volume"
