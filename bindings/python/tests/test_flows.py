"""cinderlib's flows: create, wait, extend, snapshot, a volume from it, clone, delete."""
import re

import pytest

import cinder


def test_create_wait_fields(svc):
    vol = svc.create_volume(size=1, name="data", description="for tests", metadata={"k": "v"})
    assert vol.status == "creating"
    assert re.fullmatch(r"[0-9a-f-]{36}", vol.id)
    assert vol.wait(timeout=30) is vol
    assert vol.status == "available"
    assert (vol.name, vol.description, vol.size, vol.metadata) == ("data", "for tests", 1, {"k": "v"})
    assert vol.volume_type == "__DEFAULT__" and vol.volume_type_id
    assert vol.project_id == "cinderlib" and vol.user_id == "cinderlib"
    assert vol.attach_status == "detached" and vol.attachments == []
    assert vol.host.endswith("@file#file")
    assert vol.availability_zone == "nova"
    assert not vol.bootable and not vol.multiattach
    assert vol.snapshot_id is None and vol.source_volid is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}", vol.created_at)
    assert svc.get_volume(vol.id) == vol
    assert repr(vol) == f"<cinder.Volume {vol.id} 'data' 1 GiB available>"


def test_unnamed_volume(svc):
    vol = svc.create_volume(1).wait()
    assert vol.name is None and vol.description is None


def test_extend_snapshot_volume_from_snapshot_clone_delete(svc):
    vol = svc.create_volume(size=1, name="origin").wait()
    with open(vol.local_path(), "r+b") as f:
        f.write(b"cinderlib")
    assert vol.extend(2).status in ("extending", "available")  # the file driver is quick
    assert vol.wait().size == 2 and vol.status == "available"

    snap = vol.create_snapshot(name="snap", metadata={"purpose": "test"}).wait()
    assert (snap.status, snap.volume_id, snap.size, snap.name, snap.metadata) == (
        "available", vol.id, 2, "snap", {"purpose": "test"})
    assert vol.snapshots() == [snap]

    from_snap = snap.create_volume(name="from-snap").wait()
    assert (from_snap.snapshot_id, from_snap.size, from_snap.status) == (snap.id, 2, "available")
    clone = vol.clone(name="clone").wait()
    assert (clone.source_volid, clone.size) == (vol.id, 2)
    for copy in (from_snap, clone):
        with open(copy.local_path(), "rb") as f:
            assert f.read(9) == b"cinderlib"

    # A volume with snapshots is not deleted (Cinder's message), unless cascade.
    with pytest.raises(cinder.InvalidState, match="snapshots"):
        vol.delete()
    for v in (from_snap, clone):
        assert v.delete().status == "deleting"  # as Cinder answers the DELETE
        assert v.wait().status == "deleted"
        with pytest.raises(cinder.NotFound):
            svc.get_volume(v.id)
    assert snap.delete().wait().status == "deleted"
    vol.delete(cascade=True).wait()
    assert list(svc.volumes()) == []


def test_update_and_retype(svc):
    svc.create_volume_type("gold")
    vol = svc.create_volume(1, name="a").wait()
    vol.update(name="b", metadata={"x": "1"}, bootable=True)
    assert (vol.name, vol.metadata, vol.bootable) == ("b", {"x": "1"}, True)
    vol.update(name=None)
    assert vol.name is None
    with pytest.raises(cinder.InvalidInput, match="Unknown field"):
        vol.update(size=3)
    assert vol.retype("gold").wait().volume_type == "gold"


def test_revert_to_snapshot(svc):
    vol = svc.create_volume(1).wait()
    path = vol.local_path()
    with open(path, "r+b") as f:
        f.write(b"before")
    snap = vol.create_snapshot().wait()
    with open(path, "r+b") as f:
        f.write(b"after!")
    vol.revert_to_snapshot(snap).wait()
    with open(path, "rb") as f:
        assert f.read(6) == b"before"


def test_types_and_qos(svc):
    gold = svc.create_volume_type("gold", extra_specs={"volume_backend_name": "file"}, description="fast")
    assert (gold.name, gold.description, gold.is_public, gold.extra_specs) == (
        "gold", "fast", True, {"volume_backend_name": "file"})
    gold.set_extra_specs({"multiattach": "<is> True"})
    assert gold.refresh().extra_specs == {"volume_backend_name": "file", "multiattach": "<is> True"}
    gold.unset_extra_spec("multiattach")
    assert "gold" in [t.name for t in svc.volume_types()]
    assert svc.get_volume_type("default").name == "__DEFAULT__"

    vol = svc.create_volume(1, volume_type="gold").wait()
    assert vol.volume_type == "gold" and vol.volume_type_id == gold.id
    with pytest.raises(cinder.InvalidState):
        gold.delete()  # live volumes use it

    qos = svc.create_qos_specs("limits", {"consumer": "front-end", "total_iops_sec": "500"})
    assert (qos.consumer, qos.specs) == ("front-end", {"total_iops_sec": "500"})
    qos.associate(gold)
    assert qos.associations() == [(gold.id, "gold")]
    assert gold.refresh().qos_specs_id == qos.id
    qos.set_keys({"read_iops_sec": "100"})
    assert qos.specs == {"total_iops_sec": "500", "read_iops_sec": "100"}
    qos.unset_keys(["read_iops_sec"])
    with pytest.raises(cinder.InvalidState):
        qos.delete()  # in use by a type
    qos.disassociate(gold)
    qos.delete()
    assert svc.qos_specs() == [] or all(q.id != qos.id for q in svc.qos_specs())
    vol.delete().wait()
    gold.delete()
    with pytest.raises(cinder.NotFound):
        svc.get_volume_type(gold.id)


def test_quotas(svc):
    q = svc.quotas()
    assert q["volumes"].limit == 10 and q["volumes"].in_use == 0
    svc.create_volume(2).wait()
    q = svc.quotas()
    assert (q["volumes"].in_use, q["gigabytes"].in_use) == (1, 2)
    assert svc.set_quotas(volumes=20, gigabytes=-1)["volumes"].limit == 20
    assert svc.quotas()["gigabytes"].limit == -1
    svc.reset_quotas()
    assert svc.quotas()["volumes"].limit == 10
    assert svc.quotas(defaults=True)["volumes"].limit == 10


def test_projects_are_apart(svc):
    other = svc.for_project("other")
    theirs = other.create_volume(1, name="theirs").wait()
    assert theirs.project_id == "other"
    mine = svc.create_volume(1, name="mine").wait()
    assert [v.name for v in svc.volumes()] == ["mine"]
    assert [v.name for v in other.volumes()] == ["theirs"]
    assert sorted(v.name for v in svc.volumes(all_tenants=True)) == ["mine", "theirs"]
    # An admin reads another project's volume by id, as Cinder's admin does.
    assert svc.get_volume(theirs.id).name == "theirs"
    assert mine.project_id == "cinderlib"


def test_services_and_messages(svc):
    services = svc.services()
    assert {(s["binary"], s["state"]) for s in services} >= {("cinder-volume", "up"), ("cinder-scheduler", "up")}
    assert svc.messages() == []


def test_closed_service(tmp_path):
    s = cinder.open(state_path=str(tmp_path))
    vol = s.create_volume(1).wait()
    s.close()
    assert s.closed
    with pytest.raises(cinder.InvalidState, match="closed"):
        vol.refresh()
    s.close()  # idempotent
    # Reopened: the volume is still there.
    with cinder.open(state_path=str(tmp_path)) as again:
        assert again.get_volume(vol.id).status == "available"


def test_type_access_defaults_zones_pools(svc):
    private = svc.create_volume_type("private", is_public=False)
    assert private.projects() == []
    private.add_project_access("cinderlib")
    assert private.projects() == ["cinderlib"]
    private.remove_project_access("cinderlib")
    with pytest.raises(cinder.NotFound):
        svc.create_volume_type("public").projects()
    private.update(name="renamed", description="d")
    assert (private.name, private.description, private.is_public) == ("renamed", "d", False)

    assert svc.default_volume_type() is None
    svc.set_default_volume_type("renamed")
    assert svc.default_volume_type() == private.id
    assert svc.create_volume(1).wait().volume_type == "renamed"
    svc.unset_default_volume_type()
    assert svc.default_volume_type() is None

    assert svc.availability_zones() == {"nova": True}
    pools = svc.pools()
    assert [p["name"] for p in pools] == [pools[0]["backend"] + "#file"]
    assert pools[0]["capabilities"]["volume_backend_name"] == "file"
    assert svc.limits()["volumes"].in_use == 1
