"""Group snapshots (3.14) through the stock client: create, list, show, delete, reset-state
(3.19), groups made from a group snapshot or a source group (create-from-src), the rules that
tie snapshots, groups and group snapshots together, quotas, microversions and bad input."""
import os
import time

import pytest

from conftest import PROJECT, start_service, stop_service, table_rows

V311 = ("--os-volume-api-version", "3.11")
V314 = ("--os-volume-api-version", "3.14")
V319 = ("--os-volume-api-version", "3.19")
V320 = ("--os-volume-api-version", "3.20")


def wait_for(service, path, key, statuses, timeout=20, version="volume 3.14"):
    """Waits until GET path shows body[key]["status"] in `statuses` ("deleted": a 404)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        code, body, _ = service.request("GET", service.url(path), version=version)
        if code == 404 and "deleted" in statuses:
            return "deleted"
        if code == 200 and body[key]["status"] in statuses:
            return body[key]["status"]
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {statuses}")


def wait_gsnap(service, gs_id, statuses):
    return wait_for(service, f"/group_snapshots/{gs_id}", "group_snapshot", statuses)


def wait_group(service, group_id, statuses):
    return wait_for(service, f"/groups/{group_id}", "group", statuses)


def volume_file(service, vol_id):
    return os.path.join(service.volume_dir, f"volume-{vol_id}")


def snapshot_file(service, snap_id):
    return os.path.join(service.volume_dir, f"snapshot-{snap_id}")


def write_at(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def read_at(path, offset, n):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(n)


def usage(service, resource):
    code, body, _ = service.request("GET", service.url(f"/os-quota-sets/{PROJECT}?usage=True"))
    assert code == 200
    return body["quota_set"][resource]["in_use"]


@pytest.fixture(scope="module")
def kinds(service):
    vt = table_rows(service.cinder("type-create", "gs-vt").stdout)[0]["ID"]
    vt2 = table_rows(service.cinder("type-create", "gs-vt2").stdout)[0]["ID"]
    gt = table_rows(service.cinder(*V311, "group-type-create", "gs-gt").stdout)[0]["ID"]
    return {"vt": vt, "vt2": vt2, "gt": gt}


def group_with_volumes(service, name, n=2):
    """An available group of the gs-gt type with `n` available volumes (gs-vt, then gs-vt2)."""
    group_id = service.cinder_table(*V314, "group-create", "gs-gt", "gs-vt,gs-vt2", "--name", name)["id"]
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    vols = []
    for i in range(n):
        vol = service.cinder_table(*V314, "create", "--group-id", group_id, "--volume-type",
                                   "gs-vt" if i % 2 == 0 else "gs-vt2", "--name", f"{name}-v{i}", "1")["id"]
        assert service.wait_status(vol, ["available", "error"]) == "available"
        vols.append(vol)
    return group_id, vols


def member_snapshots(service, gs_id):
    code, body, _ = service.request("GET", service.url("/snapshots/detail"), version="volume 3.14")
    assert code == 200
    return {s["volume_id"]: s for s in body["snapshots"] if s["group_snapshot_id"] == gs_id}


def test_group_snapshot_life_through_the_client(service, kinds):
    group_id, (va, vb) = group_with_volumes(service, "gs-life")
    write_at(volume_file(service, va), 0, b"A-before")
    write_at(volume_file(service, vb), 4096, b"B-before")
    snaps_before = usage(service, "snapshots")

    shown = service.cinder_table(*V314, "group-snapshot-create", "--name", "gs1", "--description", "first",
                                 group_id)
    gs_id = shown["id"]
    assert shown["group_id"] == group_id and shown["name"] == "gs1" and shown["group_type_id"] == kinds["gt"]
    assert wait_gsnap(service, gs_id, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/group_snapshots/{gs_id}"), version="volume 3.14")
    assert code == 200
    g = body["group_snapshot"]
    assert list(g) == ["id", "group_id", "group_type_id", "status", "created_at", "name", "description"]
    assert (g["group_id"], g["group_type_id"], g["status"], g["name"], g["description"]) == (
        group_id, kinds["gt"], "available", "gs1", "first")
    # The data changes after the cut: the snapshots keep what was there.
    write_at(volume_file(service, va), 0, b"A-after!")
    write_at(volume_file(service, vb), 4096, b"B-after!")

    # A snapshot of each volume, with group_snapshot_id from 3.14 (absent before), counted in quota.
    members = member_snapshots(service, gs_id)
    assert set(members) == {va, vb}
    for vol, s in members.items():
        assert s["status"] == "available" and s["name"] == "gs1" and s["description"] == "first"
    assert read_at(snapshot_file(service, members[va]["id"]), 0, 8) == b"A-before"
    assert read_at(snapshot_file(service, members[vb]["id"]), 4096, 8) == b"B-before"
    code, body, _ = service.request("GET", service.url(f"/snapshots/{members[va]['id']}"), version="volume 3.13")
    assert "group_snapshot_id" not in body["snapshot"]
    assert usage(service, "snapshots") == snaps_before + 2

    listed = {r["ID"]: r for r in table_rows(service.cinder(*V314, "group-snapshot-list").stdout)}
    assert listed[gs_id]["Status"] == "available" and listed[gs_id]["Name"] == "gs1"
    code, body, _ = service.request("GET", service.url("/group_snapshots"), version="volume 3.14")
    assert {"id": gs_id, "name": "gs1"} in body["group_snapshots"]
    code, body, _ = service.request("GET", service.url("/group_snapshots/detail"), version="volume 3.14")
    assert gs_id in [x["id"] for x in body["group_snapshots"]]
    shown = service.cinder_table(*V314, "group-snapshot-show", gs_id)
    assert shown["status"] == "available" and shown["group_id"] == group_id

    # A member snapshot is not deleted alone, forced or not; the group not while it has group
    # snapshots.
    res = service.cinder("snapshot-delete", members[va]["id"], check=False)
    assert res.returncode != 0
    assert "Snapshot status must be available or error and must not be part of a group." in res.stdout + res.stderr
    code, body, _ = service.request("POST", service.url(f"/snapshots/{members[va]['id']}/action"),
                                    {"os-force_delete": {}})
    assert (code, body["badRequest"]["message"]) == (400, "Invalid snapshot: Snapshot  must not be part of a group.")
    res = service.cinder(*V314, "group-delete", "--delete-volumes", group_id, check=False)
    assert res.returncode != 0 and "Invalid Group: Group has existing snapshots." in res.stdout + res.stderr

    # A group from the group snapshot: its volumes hold the snapshots' data.
    made = service.cinder_table(*V314, "group-create-from-src", "--group-snapshot", gs_id, "--name", "from-gs")
    from_gs = made["id"]
    assert made["name"] == "from-gs"
    assert wait_group(service, from_gs, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/groups/{from_gs}?list_volume=True"),
                                    version="volume 3.25")
    g = body["group"]
    assert g["group_snapshot_id"] == gs_id and g["source_group_id"] is None and g["group_type"] == kinds["gt"]
    assert sorted(g["volume_types"]) == sorted([kinds["vt"], kinds["vt2"]])
    assert len(g["volumes"]) == 2
    by_source = {}
    for vol in g["volumes"]:
        assert service.wait_status(vol, ["available", "error"]) == "available"
        code, vbody, _ = service.request("GET", service.url(f"/volumes/{vol}"), version="volume 3.14")
        by_source[vbody["volume"]["snapshot_id"]] = vol
        assert vbody["volume"]["group_id"] == from_gs
    assert read_at(volume_file(service, by_source[members[va]["id"]]), 0, 8) == b"A-before"
    assert read_at(volume_file(service, by_source[members[vb]["id"]]), 4096, 8) == b"B-before"
    # The group snapshot is not deleted while a group is made from it; this one is made.
    # A group cloned from the source group: its volumes hold the data as it is now.
    made = service.cinder_table(*V314, "group-create-from-src", "--source-group", group_id, "--name", "clone")
    clone = made["id"]
    assert wait_group(service, clone, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/groups/{clone}?list_volume=True"), version="volume 3.25")
    assert body["group"]["source_group_id"] == group_id and body["group"]["group_snapshot_id"] is None
    clones = {}
    for vol in body["group"]["volumes"]:
        code, vbody, _ = service.request("GET", service.url(f"/volumes/{vol}"), version="volume 3.14")
        clones[vbody["volume"]["source_volid"]] = vol
    assert read_at(volume_file(service, clones[va]), 0, 8) == b"A-after!"
    assert read_at(volume_file(service, clones[vb]), 4096, 8) == b"B-after!"

    # A volume out of the group is not deleted with its snapshots (cascade) while one of them is
    # a group snapshot's.
    service.cinder(*V314, "group-update", group_id, "--remove-volumes", va)
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    res = service.cinder("delete", "--cascade", va, check=False)
    assert res.returncode != 0 and "have snapshots" in res.stdout + res.stderr
    assert service.cinder_table("show", va)["status"] == "available"

    # Delete: the group snapshot and its snapshots go, and their quota.
    service.cinder(*V314, "group-snapshot-delete", gs_id)
    assert wait_gsnap(service, gs_id, ["deleted"]) == "deleted"
    for s in members.values():
        assert service.wait_snapshot(s["id"], ["deleted"]) == "deleted"
        assert not os.path.exists(snapshot_file(service, s["id"]))
    assert usage(service, "snapshots") == snaps_before
    res = service.cinder(*V314, "group-snapshot-show", gs_id, check=False)
    assert res.returncode != 0
    for g in (group_id, from_gs, clone):
        service.cinder(*V314, "group-delete", "--delete-volumes", g)
        assert wait_group(service, g, ["deleted"]) == "deleted"
    service.cinder("delete", va)
    assert service.wait_status(va, ["deleted"]) == "deleted"


def test_group_snapshot_reset_state_and_status_rules(service, kinds):
    group_id, _ = group_with_volumes(service, "gs-reset", n=1)
    gs_id = service.cinder_table(*V314, "group-snapshot-create", group_id)["id"]
    assert wait_gsnap(service, gs_id, ["available", "error"]) == "available"
    # reset_status is 3.19: before it, no such action.
    code, body, _ = service.request("POST", service.url(f"/group_snapshots/{gs_id}/action"),
                                    {"reset_status": {"status": "error"}}, version="volume 3.18")
    assert code == 404
    service.cinder(*V319, "reset-state", "--type", "group-snapshot", "--state", "deleting", gs_id)
    assert service.cinder_table(*V314, "group-snapshot-show", gs_id)["status"] == "deleting"
    # Delete only from available or error.
    res = service.cinder(*V314, "group-snapshot-delete", gs_id, check=False)
    assert res.returncode != 0
    assert ("Invalid GroupSnapshot: GroupSnapshot status must be available or error, and no Group can be currently "
            "using it as source for its creation.") in res.stdout
    # A group is made only from an available group snapshot.
    res = service.cinder(*V314, "group-create-from-src", "--group-snapshot", gs_id, check=False)
    assert res.returncode != 0 and "Originating group snapshot status must be one of 'available' values" in res.stderr
    code, body, _ = service.request("POST", service.url(f"/group_snapshots/{gs_id}/action"),
                                    {"reset_status": {"status": "frozen"}}, version="volume 3.19")
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid GroupSnapshot Status: Group snapshot status: frozen is invalid, valid statuses are: ('error', "
             "'available', 'creating', 'deleting', 'deleted', 'updating', 'error_deleting').")
    code, body, _ = service.request("POST", service.url(f"/group_snapshots/{gs_id}/action"),
                                    {"reset_status": {"status": " "}}, version="volume 3.19")
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid GroupSnapshot Status: The 'status' can not be empty.")
    service.cinder(*V319, "reset-state", "--type", "group-snapshot", "--state", "error", gs_id)
    assert service.cinder_table(*V314, "group-snapshot-show", gs_id)["status"] == "error"
    service.cinder(*V314, "group-snapshot-delete", gs_id)
    assert wait_gsnap(service, gs_id, ["deleted"]) == "deleted"

    # A group snapshot of a group that is not available is refused.
    service.cinder(*V320, "reset-state", "--type", "group", "--state", "error", group_id)
    code, body, _ = service.request("POST", service.url("/group_snapshots"),
                                    {"group_snapshot": {"group_id": group_id}}, version="volume 3.14")
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid Group: Group {group_id} status must be available, but current status is: error.")
    service.cinder(*V320, "reset-state", "--type", "group", "--state", "available", group_id)
    service.cinder(*V314, "group-delete", "--delete-volumes", group_id)
    assert wait_group(service, group_id, ["deleted"]) == "deleted"


def test_an_empty_group_and_its_group_snapshot(service, kinds):
    group_id = service.cinder_table(*V314, "group-create", "gs-gt", "gs-vt", "--name", "gs-empty")["id"]
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    # As Cinder: a group snapshot of no volume, and no group can be made from it.
    gs_id = service.cinder_table(*V314, "group-snapshot-create", group_id)["id"]
    assert wait_gsnap(service, gs_id, ["available", "error"]) == "available"
    res = service.cinder(*V314, "group-create-from-src", "--group-snapshot", gs_id, check=False)
    assert res.returncode != 0
    assert "Invalid Group: Group snapshot is empty. No group will be created." in res.stdout + res.stderr
    res = service.cinder(*V314, "group-create-from-src", "--source-group", group_id, check=False)
    assert res.returncode != 0
    assert "Invalid Group: Source Group is empty. No group will be created." in res.stdout + res.stderr
    service.cinder(*V314, "group-snapshot-delete", gs_id)
    assert wait_gsnap(service, gs_id, ["deleted"]) == "deleted"
    service.cinder(*V314, "group-delete", group_id)
    assert wait_group(service, group_id, ["deleted"]) == "deleted"


def test_group_snapshot_versions_and_bad_input(service, kinds):
    # Below 3.14 group snapshots and create-from-src do not exist.
    for method, path, body in (("GET", "/group_snapshots", None), ("GET", "/group_snapshots/detail", None),
                               ("POST", "/group_snapshots", {"group_snapshot": {"group_id": kinds["gt"]}}),
                               ("POST", "/groups/action", {"create-from-src": {"source_group_id": kinds["gt"]}})):
        code, answer, _ = service.request(method, service.url(path), body, version="volume 3.13")
        assert (code, answer["itemNotFound"]["message"]) == (404, "The resource could not be found."), path
    res = service.cinder("--os-volume-api-version", "3.13", "group-snapshot-list", check=False)
    assert res.returncode != 0

    rows_before = service.db_snapshot()

    def post(body):
        return service.request("POST", service.url("/group_snapshots"), body, version="volume 3.14")

    code, body, _ = post({"group_snapshot": {"name": "x"}})
    assert code == 400 and "'group_id' is a required property" in body["badRequest"]["message"]
    code, body, _ = post({"group_snapshot": {"group_id": "not-a-uuid"}})
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid input for field/attribute group_id. Value: not-a-uuid. 'not-a-uuid' is not a 'uuid'")
    code, body, _ = post({"group_snapshot": {"group_id": kinds["gt"], "color": "red"}})
    assert code == 400 and "('color' was unexpected)" in body["badRequest"]["message"]
    missing = "6f1f4c8e-2b7a-4b9e-9c57-0d1e2f3a4b5c"
    code, body, _ = post({"group_snapshot": {"group_id": missing}})
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group {missing} could not be found.")
    code, body, _ = service.request("GET", service.url(f"/group_snapshots/{missing}"), version="volume 3.14")
    assert (code, body["itemNotFound"]["message"]) == (404, f"GroupSnapshot {missing} could not be found.")
    code, body, _ = service.request("DELETE", service.url(f"/group_snapshots/{missing}"), version="volume 3.14")
    assert code == 404

    def from_src(body):
        return service.request("POST", service.url("/groups/action"), body, version="volume 3.14")

    code, body, _ = from_src({"create-from-src": {"name": "x"}})
    assert code == 400 and "is not valid under any of the given schemas" in body["badRequest"]["message"]
    code, body, _ = from_src({"create-from-src": {"group_snapshot_id": missing, "source_group_id": missing}})
    assert code == 400 and "is valid under each of" in body["badRequest"]["message"]
    code, body, _ = from_src({"create-from-src": {"group_snapshot_id": missing}})
    assert (code, body["itemNotFound"]["message"]) == (404, f"GroupSnapshot {missing} could not be found.")
    code, body, _ = from_src({"create-from-src": {"source_group_id": missing}})
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group {missing} could not be found.")
    res = service.cinder(*V314, "group-create-from-src", "--name", "nothing", check=False)
    assert res.returncode != 0
    assert service.db_snapshot() == rows_before


def test_group_snapshot_quota(service, kinds):
    group_id, _ = group_with_volumes(service, "gs-quota")
    in_use = usage(service, "snapshots")
    code, _, _ = service.request("PUT", service.url(f"/os-quota-sets/{PROJECT}"),
                                 {"quota_set": {"snapshots": in_use + 1}})
    assert code == 200
    try:
        rows_before = service.db_snapshot()
        res = service.cinder(*V314, "group-snapshot-create", group_id, check=False)
        assert res.returncode != 0 and "(HTTP 413)" in res.stderr
        assert f"Maximum number of snapshots allowed ({in_use + 1}) exceeded" in res.stderr
        assert service.db_snapshot() == rows_before
    finally:
        service.request("PUT", service.url(f"/os-quota-sets/{PROJECT}"), {"quota_set": {"snapshots": -1}})
    service.cinder(*V314, "group-delete", "--delete-volumes", group_id)
    assert wait_group(service, group_id, ["deleted"]) == "deleted"


def test_another_projects_group_snapshot_is_not_found(tmp_path):
    """auth_strategy = keystone: a member of another project can neither snapshot a project's
    group nor see, delete or make a group from its group snapshots (404)."""
    from test_identity import IDENTITY_CONF, bootstrap, cinder_cli, openstack

    proc, ks = start_service(tmp_path, extra=IDENTITY_CONF, log_file=str(tmp_path / "service.log"))
    try:
        bootstrap(ks)
        people = {}
        for project, user in (("proj-a", "ann"), ("proj-b", "bob")):
            openstack(ks, "project", "create", "--domain", "default", project)
            openstack(ks, "user", "create", "--domain", "default", "--project", project, "--password", "pw", user)
            openstack(ks, "role", "add", "--project", project, "--user", user, "member")
            people[user] = {"user": user, "password": "pw", "project": project}
        cinder_cli(ks, "type-create", "k-vt")
        cinder_cli(ks, *V311, "group-type-create", "k-gt")
        made = cinder_cli(ks, *V314, "group-create", "k-gt", "k-vt", "--name", "anns", **people["ann"]).stdout
        group_id = next(r["Value"] for r in table_rows(made) if r["Property"] == "id")
        deadline = time.time() + 20
        while "available" not in cinder_cli(ks, *V314, "group-show", group_id, **people["ann"]).stdout:
            assert time.time() < deadline
            time.sleep(0.1)
        made = cinder_cli(ks, *V314, "group-snapshot-create", group_id, **people["ann"]).stdout
        gs_id = next(r["Value"] for r in table_rows(made) if r["Property"] == "id")
        for args in (("group-snapshot-create", group_id), ("group-snapshot-show", gs_id),
                     ("group-snapshot-delete", gs_id), ("group-create-from-src", "--group-snapshot", gs_id),
                     ("group-create-from-src", "--source-group", group_id)):
            res = cinder_cli(ks, *V314, *args, check=False, **people["bob"])
            assert res.returncode != 0, args
            out = res.stdout + res.stderr
            assert "could not be found" in out or "No group" in out, (args, out)
        assert gs_id not in cinder_cli(ks, *V314, "group-snapshot-list", **people["bob"]).stdout
        assert gs_id in cinder_cli(ks, *V314, "group-snapshot-list", **people["ann"]).stdout
        # The admin resets it (3.19); a member may not.
        res = cinder_cli(ks, *V319, "reset-state", "--type", "group-snapshot", "--state", "error", gs_id, check=False,
                         **people["ann"])
        assert res.returncode != 0
        cinder_cli(ks, *V319, "reset-state", "--type", "group-snapshot", "--state", "error", gs_id)
        assert "error" in cinder_cli(ks, *V314, "group-snapshot-show", gs_id, **people["ann"]).stdout
    finally:
        stop_service(proc)


def test_create_from_src_needs_room_on_the_source_backend(tmp_path_factory):
    """Cinder's validate_host_capacity: a group made from a source must fit on the source's
    backend (the scheduler's filters for the total size); otherwise 400 before anything is
    recorded or charged."""
    state = tmp_path_factory.mktemp("gs-room")
    backends = {"file": f"volume_driver = file\nvolume_backend_name = file\nfile_volume_directory = {state}/volumes\n"
                        "file_capacity_gb = 3\nmax_over_subscription_ratio = 20\n"}
    proc, svc = start_service(state, backends=backends)
    try:
        svc.cinder("type-create", "gs-vt")
        svc.cinder("type-create", "gs-vt2")
        svc.cinder(*V311, "group-type-create", "gs-gt")
        group_id = svc.cinder_table(*V314, "group-create", "gs-gt", "gs-vt,gs-vt2", "--name", "big")["id"]
        assert wait_group(svc, group_id, ["available", "error"]) == "available"
        for i in range(2):  # 50 GB provisioned of 3 x 20 = 60
            vol = svc.cinder_table(*V314, "create", "--group-id", group_id, "--volume-type", "gs-vt", "25")["id"]
            assert svc.wait_status(vol, ["available", "error"]) == "available"
        groups_before, volumes_before = usage(svc, "groups"), usage(svc, "volumes")
        code, body, _ = svc.request("POST", svc.url("/groups/action"),
                                    {"create-from-src": {"source_group_id": group_id, "name": "copy"}},
                                    version="volume 3.14")
        assert code == 400, body
        msg = body["badRequest"]["message"]
        assert msg.startswith("Invalid Group: No valid host to create group ") and msg.endswith("."), msg
        assert (usage(svc, "groups"), usage(svc, "volumes")) == (groups_before, volumes_before)
        code, body, _ = svc.request("GET", svc.url("/groups"), version="volume 3.13")
        assert [g["name"] for g in body["groups"]] == ["big"]
        # The stock client shows the refusal too.
        res = svc.cinder(*V314, "group-create-from-src", "--source-group", group_id, check=False)
        assert res.returncode != 0 and "No valid host to create group" in res.stderr
    finally:
        stop_service(proc)
