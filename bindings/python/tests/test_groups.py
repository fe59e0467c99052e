"""Generic volume groups, group types and group snapshots (Cinder 3.11-3.20) through the module."""
import pytest

import cinder


@pytest.fixture
def group_type(svc):
    return svc.create_group_type("gt", group_specs={"consistent_group_snapshot_enabled": "<is> True"},
                                 description="for tests")


def test_group_types(svc, group_type):
    assert group_type.group_specs == {"consistent_group_snapshot_enabled": "<is> True"}
    assert group_type.description == "for tests" and group_type.is_public
    assert group_type in svc.group_types()
    assert svc.get_group_type(group_type.id).name == "gt"
    group_type.set_group_specs({"k": "v"})
    assert group_type.group_specs == {"consistent_group_snapshot_enabled": "<is> True", "k": "v"}
    group_type.unset_group_spec("k")
    assert "k" not in group_type.refresh().group_specs
    with pytest.raises(cinder.NotFound):
        group_type.unset_group_spec("k")
    assert group_type.update(name="gt2", is_public=False).name == "gt2" and not group_type.is_public
    with pytest.raises(cinder.Conflict):
        svc.create_group_type("gt2")
    group_type.delete()
    with pytest.raises(cinder.NotFound):
        svc.get_group_type(group_type.id)


def test_group_with_two_volumes_its_snapshot_and_groups_from_them(svc, group_type):
    vt = svc.get_volume_type("default")
    group = svc.create_group(group_type, [vt], name="g1", description="two volumes").wait(timeout=30)
    assert group.status == "available" and group.host.endswith("@file#file")
    assert group.group_type == group_type.id and group.volume_types == [vt.id]
    a = group.create_volume(1, name="a", volume_type=vt.name).wait(timeout=30)
    b = svc.create_volume(1, name="b", volume_type=vt.id, group_id=group).wait(timeout=30)
    assert a.group_id == group.id and b.group_id == group.id
    assert sorted(group.refresh().volumes) == sorted([a.id, b.id])
    assert sorted(v.name for v in svc.volumes(group_id=group)) == ["a", "b"]
    with a.attach() as f:
        f.write(b"group data")

    gsnap = group.create_snapshot(name="gs").wait(timeout=30)
    assert gsnap.status == "available" and gsnap.group_id == group.id and gsnap.group_type_id == group_type.id
    snaps = gsnap.snapshots()
    assert sorted(s.volume_id for s in snaps) == sorted([a.id, b.id])
    assert all(s.status == "available" for s in snaps)
    assert list(svc.group_snapshots(group_id=group)) == [gsnap]
    assert list(svc.group_snapshots(name="nope")) == []

    from_snap = gsnap.create_group(name="from-snap").wait(timeout=60)
    assert from_snap.status == "available" and from_snap.group_snapshot_id == gsnap.id
    members = list(svc.volumes(group_id=from_snap))
    assert len(members) == 2 and all(v.status == "available" for v in members)
    copy_of_a = next(v for v in members if v.snapshot_id == next(s.id for s in snaps if s.volume_id == a.id))
    with copy_of_a.attach(mode="ro") as f:
        assert f.read(10) == b"group data"

    clone = group.clone(name="clone").wait(timeout=60)
    assert clone.source_group_id == group.id and len(clone.refresh().volumes) == 2

    names = [g.name for g in svc.groups(sort="name:asc")]
    assert names == ["clone", "from-snap", "g1"]
    assert [g.name for g in svc.groups(name="g1")] == ["g1"]
    # Page by page (the marker: the last group of a page), in Cinder's order, newest first.
    everyone = [g.id for g in svc.groups()]
    assert everyone == [clone.id, from_snap.id, group.id]
    assert [g.id for g in svc.groups(page_size=1)] == everyone
    assert [g.id for g in svc.groups(limit=2, page_size=1)] == everyone[:2]
    assert [g.id for g in svc.group_snapshots(page_size=1)] == [gsnap.id]

    # A group with snapshots, or volumes, is not deleted without delete_volumes.
    with pytest.raises(cinder.InvalidState, match="Group has existing snapshots"):
        group.delete()
    gsnap.delete().wait(timeout=30)
    assert gsnap.status == "deleted"
    with pytest.raises(cinder.NotFound):
        svc.get_group_snapshot(gsnap.id)
    with pytest.raises(cinder.InvalidInput):
        group.delete()
    group.delete(delete_volumes=True).wait(timeout=60)
    assert group.status == "deleted"
    with pytest.raises(cinder.NotFound):
        svc.get_volume(a.id)
    for g in (from_snap, clone):
        g.delete(delete_volumes=True).wait(timeout=60)
    assert list(svc.groups()) == [] and list(svc.volumes()) == []


def test_group_update_adds_and_removes_volumes(svc, group_type):
    vt = svc.get_volume_type("default")
    group = svc.create_group(group_type.name, [vt.name], name="g").wait(timeout=30)
    v1 = svc.create_volume(1, name="v1", volume_type=vt.id).wait(timeout=30)
    v2 = svc.create_volume(1, name="v2", volume_type=vt.id).wait(timeout=30)
    group.update(add_volumes=[v1, v2.id], description="grown").wait(timeout=30)
    assert sorted(group.volumes) == sorted([v1.id, v2.id]) and group.description == "grown"
    assert v1.refresh().group_id == group.id
    group.update(remove_volumes=[v1]).wait(timeout=30)
    assert group.volumes == [v2.id] and v1.refresh().group_id is None
    with pytest.raises(cinder.InvalidInput):
        group.update(add_volumes=["no-such-volume"])
    group.update(remove_volumes=[v2]).wait(timeout=30)
    group.delete().wait(timeout=30)
    assert group.status == "deleted"


def test_group_reset_status_and_errors(svc, group_type):
    vt = svc.get_volume_type("default")
    with pytest.raises(cinder.NotFound):
        svc.create_group("no-such-type", [vt])
    with pytest.raises(cinder.InvalidInput):
        svc.create_group(group_type, "not a list")
    group = svc.create_group(group_type, [vt]).wait(timeout=30)
    assert group.reset_status("error").status == "error"
    with pytest.raises(cinder.OperationFailed) as e:
        group.wait(timeout=5)
    assert e.value.status == "error" and e.value.resource_id == group.id
    group.reset_status("available")
    gsnap = group.create_snapshot().wait(timeout=30)
    assert gsnap.reset_status("error").status == "error"
    gsnap.delete().wait(timeout=30)
    # Another project's listing has it only with all_tenants.
    other = svc.for_project("other")
    assert list(other.groups()) == []
    assert [g.id for g in svc.for_project("other").groups(all_tenants=True)] == [group.id]
    group.delete().wait(timeout=30)
