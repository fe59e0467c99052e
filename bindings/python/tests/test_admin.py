"""Volume transfers, manage/unmanage, volume type encryption specs, quota classes and backup
records (export/import) through the module."""
import os

import pytest

import cinder


def test_transfer_accepted_by_another_project(svc):
    vol = svc.create_volume(1, name="gift").wait(timeout=30)
    snap = vol.create_snapshot(name="s").wait(timeout=30)
    transfer = vol.transfer("to p2")
    assert transfer.name == "to p2" and transfer.volume_id == vol.id and not transfer.accepted
    assert len(transfer.auth_key) == 16 and vol.status == "awaiting-transfer"
    assert transfer.source_project_id == "cinderlib" and transfer.destination_project_id is None
    shown = svc.get_transfer(transfer.id)
    assert shown.auth_key is None and shown == transfer
    assert [t.id for t in svc.transfers()] == [transfer.id]
    with pytest.raises(cinder.InvalidState):
        vol.delete()
    with pytest.raises(cinder.InvalidInput, match="Invalid auth key"):
        transfer.accept("0000000000000000", project_id="p2")
    with pytest.raises(cinder.InvalidInput, match="auth_key"):
        shown.accept(project_id="p2")
    p2 = svc.for_project("p2")
    transfer.accept(project_id="p2")
    assert transfer.accepted and transfer.destination_project_id == "p2"
    moved = p2.get_volume(vol.id)
    assert moved.project_id == "p2" and moved.status == "available"
    assert p2.get_snapshot(snap.id).project_id == "p2"  # its snapshots went with it
    assert list(svc.volumes()) == [] and [v.id for v in p2.volumes()] == [vol.id]
    assert svc.quotas("p2")["volumes"].in_use == 1 and svc.quotas()["volumes"].in_use == 0
    with pytest.raises(cinder.NotFound):
        svc.get_transfer(transfer.id)


def test_transfer_withdrawn_and_accepted_by_key(svc):
    vol = svc.create_volume(1).wait(timeout=30)
    transfer = vol.transfer(no_snapshots=True)
    assert transfer.no_snapshots
    transfer.delete()
    assert vol.refresh().status == "available" and svc.transfers() == []
    again = vol.transfer()
    accepted = svc.for_project("p3").accept_transfer(again.id, again.auth_key)
    assert accepted.accepted and accepted.destination_project_id == "p3"
    with pytest.raises(cinder.NotFound):
        svc.accept_transfer("no-such-transfer", "0000000000000000")


def test_unmanage_then_manage_a_file_of_the_backend(svc):
    vol = svc.create_volume(1, name="orig").wait(timeout=30)
    with vol.attach() as f:
        f.write(b"kept across manage")
    host = vol.host
    listed = svc.manageable_volumes(host=host)
    assert listed[0]["cinder_id"] == vol.id and not listed[0]["safe_to_manage"]
    vol.unmanage().wait(timeout=30)
    assert vol.status == "deleted"
    with pytest.raises(cinder.NotFound):
        svc.get_volume(vol.id)
    backend_dir = os.path.join(svc.state_path, "volumes", "file")
    (name,) = os.listdir(backend_dir)  # the data stays on the backend
    listed = svc.manageable_volumes(host=host)
    assert listed == [{"reference": {"source-name": name}, "size": 1, "safe_to_manage": True,
                       "reason_not_safe": None, "cinder_id": None, "extra_info": None}]
    managed = svc.manage_volume(name, host=host, name="managed", metadata={"k": "v"}).wait(timeout=30)
    assert managed.status == "available" and managed.size == 1 and managed.metadata == {"k": "v"}
    with managed.attach(mode="ro") as f:
        assert f.read(18) == b"kept across manage"
    assert svc.quotas()["volumes"].in_use == 1

    snap = managed.create_snapshot(name="s").wait(timeout=30)
    snap.unmanage().wait(timeout=30)
    assert snap.status == "deleted"
    (entry,) = [e for e in svc.manageable_snapshots(host=host) if e["safe_to_manage"]]
    assert entry["source_reference"] == {"source-name": os.path.basename(managed.local_path())}
    adopted = svc.manage_snapshot(managed, entry["reference"]["source-name"], name="adopted").wait(timeout=30)
    assert adopted.status == "available" and adopted.volume_id == managed.id and adopted.name == "adopted"

    # A reference the backend does not have ends in error_managing; one of host and cluster.
    with pytest.raises(cinder.OperationFailed) as e:
        svc.manage_volume("no-such-file", host=host).wait(timeout=30)
    assert e.value.status == "error_managing"
    with pytest.raises(cinder.InvalidInput, match="One and only one of cluster and host"):
        svc.manage_volume(name)
    with pytest.raises(cinder.InvalidInput, match="One and only one of cluster and host"):
        svc.manageable_volumes(host=host, cluster="c")
    with pytest.raises(cinder.InvalidState, match="Host 'nohost@nobackend' not found"):
        svc.manage_volume(name, host="nohost@nobackend")  # Cinder's ServiceUnavailable, a 400


def test_encryption_specs_round_trip(svc):
    t = svc.create_volume_type("encrypted")
    assert t.encryption() is None
    created = t.create_encryption(provider="luks", cipher="aes-xts-plain64", key_size=256,
                                  control_location="front-end")
    assert {k: created[k] for k in ("volume_type_id", "provider", "cipher", "key_size", "control_location")} == {
        "volume_type_id": t.id, "provider": "luks", "cipher": "aes-xts-plain64", "key_size": 256,
        "control_location": "front-end"}
    assert t.encryption() == created
    updated = t.update_encryption(key_size=None, control_location="back-end")
    assert updated["key_size"] is None and updated["control_location"] == "back-end"
    assert updated["cipher"] == "aes-xts-plain64" and updated["encryption_id"] == created["encryption_id"]
    with pytest.raises(cinder.InvalidState, match="already exists"):
        t.create_encryption(provider="luks")
    with pytest.raises(cinder.InvalidInput, match="Unknown field"):
        t.update_encryption(colour="red")
    vol = svc.create_volume(1, volume_type="encrypted").wait(timeout=30)
    with pytest.raises(cinder.InvalidState, match="in use"):
        t.delete_encryption()
    vol.delete().wait(timeout=30)
    t.delete_encryption()
    assert t.encryption() is None
    with pytest.raises(cinder.NotFound, match="does not exist"):
        t.delete_encryption()


def test_quota_class_update_reflected_in_defaults(svc):
    before = svc.quota_class()
    assert before["volumes"] == 10 and before["gigabytes"] == 1000
    after = svc.set_quota_class(volumes=7, backups=3)
    assert after["volumes"] == 7 and after["backups"] == 3 and after["gigabytes"] == 1000
    assert svc.quota_class("default") == after
    assert svc.quotas("fresh-project", defaults=True)["volumes"].limit == 7
    assert svc.quotas("fresh-project")["backups"].limit == 3
    svc.set_quotas("own", volumes=20)
    assert svc.quotas("own")["volumes"].limit == 20  # a project's own limit wins
    with pytest.raises(cinder.InvalidInput, match="Bad key"):
        svc.set_quota_class(nope=1)


def test_backup_record_exported_then_imported_into_a_fresh_service(tmp_path):
    with cinder.open(state_path=str(tmp_path / "a")) as svc:
        vol = svc.create_volume(1, name="src").wait(timeout=30)
        with vol.attach() as f:
            f.write(b"carried by the record")
        backup = vol.backup(name="b").wait(timeout=60)
        record = backup.export_record()
        assert record["backup_service"] == "cinder.backup.drivers.posix.PosixBackupDriver"
        with pytest.raises(cinder.InvalidState, match="already exists"):
            svc.import_backup(**record)
        assert backup.reset_status("error").status == "error"
        with pytest.raises(cinder.InvalidState, match="must be available"):
            backup.export_record()
        backup.reset_status("available")
    # Another service, with its own database, reading the first one's backup store.
    with cinder.open(state_path=str(tmp_path / "b"), backup_posix_path=str(tmp_path / "a" / "backup")) as svc2:
        imported = svc2.import_backup(**record)
        assert imported.status == "creating" and imported.id == backup.id
        imported.wait(timeout=60)
        assert imported.status == "available" and imported.size == 1 and imported.name == "b"
        restored = imported.restore(name="restored").wait(timeout=60)
        with restored.attach(mode="ro") as f:
            assert f.read(21) == b"carried by the record"
        with pytest.raises(cinder.InvalidInput):
            svc2.import_backup(record["backup_service"], "bm90IGEgcmVjb3Jk")
