"""Generic volume groups through the stock client: group types and group specs (3.11), groups
(3.13) with their volumes, quota and reset-state --type group (3.20), and their bad input."""
import time

import pytest

from conftest import PROJECT, start_service, stop_service, table_rows

V311 = ("--os-volume-api-version", "3.11")


def test_group_type_life_through_the_client(service):
    created = table_rows(service.cinder(*V311, "group-type-create", "gt-gold", "--description", "fast").stdout)[0]
    assert created["Name"] == "gt-gold"
    assert created["Description"] == "fast"
    type_id = created["ID"]
    code, body, _ = service.request("GET", service.url(f"/group_types/{type_id}"), version="volume 3.11")
    assert code == 200 and body["group_type"]["is_public"] is True

    listed = {r["Name"]: r for r in table_rows(service.cinder(*V311, "group-type-list").stdout)}
    assert "gt-gold" in listed and "default_cgsnapshot_type" in listed

    service.cinder(*V311, "group-type-key", "gt-gold", "set", "consistent_group_snapshot_enabled=<is> True", "k=v")
    specs = {r["Name"]: r["group_specs"] for r in table_rows(service.cinder(*V311, "group-specs-list").stdout)}
    assert "'k': 'v'" in specs["gt-gold"]
    assert "'consistent_group_snapshot_enabled': '<is> True'" in specs["gt-gold"]
    service.cinder(*V311, "group-type-key", type_id, "unset", "k")
    code, body, _ = service.request("GET", service.url(f"/group_types/{type_id}/group_specs"))
    assert code == 200 and body == {"group_specs": {"consistent_group_snapshot_enabled": "<is> True"}}

    shown = service.cinder_table(*V311, "group-type-show", type_id)
    assert shown["name"] == "gt-gold"
    assert shown["group_specs"] == "consistent_group_snapshot_enabled : <is> True"

    service.cinder(*V311, "group-type-update", type_id, "--name", "gt-platinum", "--description", "faster",
                   "--is-public", "false")
    code, body, _ = service.request("GET", service.url(f"/group_types/{type_id}"))
    assert code == 200
    assert body["group_type"] == {"id": type_id, "name": "gt-platinum", "description": "faster", "is_public": False,
                                  "group_specs": {"consistent_group_snapshot_enabled": "<is> True"}}
    # A private type is listed for admins asking for every type, not by default.
    code, body, _ = service.request("GET", service.url("/group_types"))
    assert type_id not in [t["id"] for t in body["group_types"]]
    code, body, _ = service.request("GET", service.url("/group_types?is_public=None"))
    assert type_id in [t["id"] for t in body["group_types"]]

    service.cinder(*V311, "group-type-delete", type_id)
    res = service.cinder(*V311, "group-type-show", type_id, check=False)
    assert res.returncode != 0 and f"No grouptype with a name or ID of '{type_id}' exists." in res.stderr
    code, body, _ = service.request("GET", service.url(f"/group_types/{type_id}"), version="volume 3.11")
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group type {type_id} could not be found.")


def test_group_type_default_and_versions(service):
    # No default_group_type configured: the client's group-type-default fails with Cinder's 404.
    res = service.cinder(*V311, "group-type-default", check=False)
    assert res.returncode != 0 and "Default group type can not be found." in res.stdout + res.stderr
    # Below 3.11 group types do not exist.
    res = service.cinder("--os-volume-api-version", "3.10", "group-type-list", check=False)
    assert res.returncode != 0
    code, body, _ = service.request("GET", service.url("/group_types"), version="volume 3.10")
    assert (code, body["itemNotFound"]["message"]) == (404, "The resource could not be found.")
    code, _, _ = service.request("POST", service.url("/group_types"), {"group_type": {"name": "x"}},
                                 version="volume 3.0")
    assert code == 404


def test_group_type_bad_input(service):
    def post(body, suffix=""):
        return service.request("POST", service.url("/group_types" + suffix), body, version="volume 3.11")

    rows_before = service.db_snapshot()
    code, body, _ = post({"group_type": {"description": "x"}})
    assert (code, body["badRequest"]["message"]) == (400, "'name' is a required property")
    code, body, _ = post({"group_type": {"name": "t1", "color": "red"}})
    assert (code, body["badRequest"]["message"]) == (400, "Additional properties are not allowed ('color' was unexpected)")
    code, body, _ = post({"group_type": {"name": "t1", "is_public": "maybe"}})
    assert code == 400
    code, body, _ = post({"group_type": {"name": "   "}})
    assert code == 400 and "Name can not be empty or only spaces." in body["badRequest"]["message"]
    code, body, _ = post({"group_type": {"name": "default_cgsnapshot_type"}})
    assert (code, body["conflictingRequest"]["message"]) == (409, "Group Type default_cgsnapshot_type already exists.")
    assert service.db_snapshot() == rows_before

    code, body, _ = post({"group_type": {"name": "gt-bad"}})
    assert code == 202
    type_id = body["group_type"]["id"]
    code, body, _ = post({"group_specs": {"bad key": "v"}}, f"/{type_id}/group_specs")
    assert code == 400 and "('bad key' was unexpected)" in body["badRequest"]["message"]
    code, body, _ = post({"group_specs": {"k": 1}}, f"/{type_id}/group_specs")
    assert code == 400
    code, body, _ = service.request("PUT", service.url(f"/group_types/{type_id}/group_specs/a"), {"b": "1"},
                                    version="volume 3.11")
    assert (code, body["badRequest"]["message"]) == (400, "Request body and URI mismatch")
    code, body, _ = service.request("DELETE", service.url(f"/group_types/{type_id}/group_specs/none"),
                                    version="volume 3.11")
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group Type {type_id} has no specs with key none.")
    code, body, _ = service.request("PUT", service.url(f"/group_types/{type_id}"), {"group_type": {}},
                                    version="volume 3.11")
    assert (code, body["badRequest"]["message"]) == (
        400, "Specify group type name, description or a combination thereof.")
    missing = "0b5c6e8e-2f0e-4a38-a3d2-8f4c0a8f7d11"
    code, body, _ = service.request("DELETE", service.url(f"/group_types/{missing}"), version="volume 3.11")
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group type {missing} could not be found.")
    code, body, _ = service.request("GET", service.url("/group_types?is_public=maybe"), version="volume 3.11")
    assert (code, body["badRequest"]["message"]) == (400, "Invalid is_public filter [maybe]")
    assert service.request("DELETE", service.url(f"/group_types/{type_id}"), version="volume 3.11")[0] == 202


def test_default_group_type_option(tmp_path):
    # [DEFAULT] default_group_type names the type `group-type-default` shows.
    proc, svc = start_service(tmp_path, extra="default_group_type = default_cgsnapshot_type")
    try:
        shown = table_rows(svc.cinder(*V311, "group-type-default").stdout)[0]
        assert shown["Name"] == "default_cgsnapshot_type"
        code, body, _ = svc.request("GET", svc.url("/group_types/default"), version="volume 3.11")
        assert code == 200 and body["group_type"]["group_specs"] == {
            "consistent_group_snapshot_enabled": "<is> True"}
    finally:
        stop_service(proc)


# ---- generic volume groups (3.13) ------------------------------------------------------------

V313 = ("--os-volume-api-version", "3.13")


def wait_group(service, group_id, statuses, timeout=20):
    """Waits until the group is in one of `statuses` ("deleted": gone) and returns that status."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        code, body, _ = service.request("GET", service.url(f"/groups/{group_id}"), version="volume 3.13")
        if code == 404 and "deleted" in statuses:
            return "deleted"
        if code == 200 and body["group"]["status"] in statuses:
            return body["group"]["status"]
        time.sleep(0.02)
    raise AssertionError(f"group {group_id} did not reach {statuses}")


@pytest.fixture(scope="module")
def kinds(service):
    """A volume type, a second one, and a group type."""
    vt = table_rows(service.cinder("type-create", "grp-vt").stdout)[0]["ID"]
    other_vt = table_rows(service.cinder("type-create", "grp-other-vt").stdout)[0]["ID"]
    gt = table_rows(service.cinder(*V311, "group-type-create", "grp-gt").stdout)[0]["ID"]
    return {"vt": vt, "other_vt": other_vt, "gt": gt}


def make_group(service, kinds, name):
    made = service.cinder_table(*V313, "group-create", "grp-gt", "grp-vt", "--name", name)
    assert made["name"] == name
    assert wait_group(service, made["id"], ["available", "error"]) == "available"
    return made["id"]


def test_group_life_through_the_client(service, kinds):
    created = service.cinder_table(*V313, "group-create", "grp-gt", "grp-vt,grp-other-vt", "--name", "g1",
                                   "--description", "first")
    group_id = created["id"]
    # Scheduled and created by the volume service: creating -> available, on the file backend.
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    shown = service.cinder_table(*V313, "group-show", group_id)
    assert shown["status"] == "available" and shown["name"] == "g1" and shown["description"] == "first"
    assert shown["group_type"] == kinds["gt"]
    code, body, _ = service.request("GET", service.url(f"/groups/{group_id}"), version="volume 3.13")
    assert code == 200
    g = body["group"]
    assert set(g) == {"id", "status", "availability_zone", "created_at", "name", "description", "group_type",
                      "volume_types"}
    assert g["volume_types"] == [kinds["vt"], kinds["other_vt"]] and g["availability_zone"] == "nova"
    listed = {r["ID"]: r for r in table_rows(service.cinder(*V313, "group-list").stdout)}
    assert listed[group_id]["Name"] == "g1" and listed[group_id]["Status"] == "available"
    code, body, _ = service.request("GET", service.url("/groups"), version="volume 3.13")
    assert {"id": group_id, "name": "g1"} in body["groups"]
    code, body, _ = service.request("GET", service.url("/groups/detail?name=g1"), version="volume 3.13")
    assert [x["id"] for x in body["groups"]] == [group_id]
    code, body, _ = service.request("GET", service.url("/groups/detail?name=none"), version="volume 3.13")
    assert body["groups"] == []
    # The groups quota counts it.
    code, body, _ = service.request("GET", service.url(f"/os-quota-sets/{PROJECT}?usage=True"))
    assert body["quota_set"]["groups"]["in_use"] >= 1
    in_use = body["quota_set"]["groups"]["in_use"]

    # A volume made into the group: of one of its types, on its backend, group_id shown from 3.13.
    vol = service.cinder_table(*V313, "create", "--group-id", group_id, "--volume-type", "grp-vt", "--name",
                               "in-g1", "1")["id"]
    assert service.wait_status(vol, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/volumes/{vol}"), version="volume 3.13")
    assert body["volume"]["group_id"] == group_id
    code, body, _ = service.request("GET", service.url(f"/volumes/{vol}"), version="volume 3.12")
    assert "group_id" not in body["volume"]
    code, body, _ = service.request("GET", service.url(f"/groups/{group_id}?list_volume=True"),
                                    version="volume 3.25")
    assert body["group"]["volumes"] == [vol]
    # The group_id filter (3.10); before it Cinder drops it.
    loose = service.cinder_table("create", "--volume-type", "grp-vt", "--name", "loose", "1")["id"]
    assert service.wait_status(loose, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/volumes?group_id={group_id}"), version="volume 3.10")
    assert [v["id"] for v in body["volumes"]] == [vol]
    code, body, _ = service.request("GET", service.url(f"/volumes?group_id={group_id}"), version="volume 3.9")
    assert {vol, loose} <= {v["id"] for v in body["volumes"]}
    # A volume of a group is not deleted alone.
    res = service.cinder("delete", vol, check=False)
    assert res.returncode != 0 and "belong to a group" in res.stdout + res.stderr
    # Nor retyped (Cinder's retype requires group_id None).
    res = service.cinder("retype", vol, "grp-other-vt", check=False)
    assert res.returncode != 0 and "Retype needs volume to be in available or in-use state" in res.stderr

    # Volumes in and out, and a new name.
    service.cinder(*V313, "group-update", group_id, "--add-volumes", loose, "--name", "g1-renamed")
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/volumes/{loose}"), version="volume 3.13")
    assert body["volume"]["group_id"] == group_id
    assert service.cinder_table(*V313, "group-show", group_id)["name"] == "g1-renamed"
    service.cinder(*V313, "group-update", group_id, "--remove-volumes", loose)
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    code, body, _ = service.request("GET", service.url(f"/volumes/{loose}"), version="volume 3.13")
    assert body["volume"]["group_id"] is None

    # Delete: refused while it holds volumes, unless delete-volumes.
    res = service.cinder(*V313, "group-delete", group_id, check=False)
    assert res.returncode != 0
    assert (f"Invalid Group: Group {group_id} still contains volumes. The delete-volumes flag is required to "
            "delete it.") in res.stdout + res.stderr
    service.cinder(*V313, "group-delete", "--delete-volumes", group_id)
    assert wait_group(service, group_id, ["deleted"]) == "deleted"
    assert service.wait_status(vol, ["deleted"]) == "deleted"
    code, body, _ = service.request("GET", service.url(f"/os-quota-sets/{PROJECT}?usage=True"))
    assert body["quota_set"]["groups"]["in_use"] == in_use - 1
    service.cinder("delete", loose)
    service.wait_status(loose, ["deleted"])


def test_group_update_checks(service, kinds):
    group_id = make_group(service, kinds, "g-upd")
    other = service.cinder_table("create", "--volume-type", "grp-other-vt", "1")["id"]
    untyped_ok = service.cinder_table("create", "--volume-type", "grp-vt", "1")["id"]
    for v in (other, untyped_ok):
        assert service.wait_status(v, ["available", "error"]) == "available"

    def put(group):
        return service.request("PUT", service.url(f"/groups/{group_id}"), {"group": group}, version="volume 3.13")

    code, body, _ = put({"add_volumes": other})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid volume: Cannot add volume {other} to group {group_id} because volume type "
             f"{kinds['other_vt']} is not supported by the group.")
    missing = "3c0e5b8a-0d51-4f8e-9a6e-1d1b5f0c2a77"
    code, body, _ = put({"add_volumes": missing})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid volume: Cannot add volume {missing} to group {group_id} because volume cannot be found.")
    code, body, _ = put({"remove_volumes": untyped_ok})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid volume: Cannot remove volume {untyped_ok} from group {group_id} because it is not in the "
             "group.")
    code, body, _ = put({"add_volumes": untyped_ok, "remove_volumes": untyped_ok})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid volume: UUIDs ['{untyped_ok}'] are in both add and remove volume list.")
    code, body, _ = put({"name": "g-upd"})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid Group: Cannot update group {group_id} because no valid name, description, add_volumes, or "
             "remove_volumes were provided.")
    code, body, _ = put({})
    assert code == 400 and "is not valid under any of the given schemas" in body["badRequest"]["message"]
    code, body, _ = put({"color": "red"})
    assert code == 400 and "('color' was unexpected)" in body["badRequest"]["message"]

    # A volume in one group cannot join another.
    service.cinder(*V313, "group-update", group_id, "--add-volumes", untyped_ok)
    assert wait_group(service, group_id, ["available", "error"]) == "available"
    second = make_group(service, kinds, "g-upd-2")
    code, body, _ = service.request("PUT", service.url(f"/groups/{second}"), {"group": {"add_volumes": untyped_ok}},
                                    version="volume 3.13")
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid volume: Cannot add volume {untyped_ok} to group {second} because it is already in group "
             f"{group_id}.")
    # A group not available takes no volumes.
    service.cinder("--os-volume-api-version", "3.20", "reset-state", "--type", "group", "--state", "error", second)
    code, body, _ = service.request("PUT", service.url(f"/groups/{second}"), {"group": {"add_volumes": other}},
                                    version="volume 3.13")
    assert code == 400
    for g in (group_id, second):
        service.cinder(*V313, "group-delete", "--delete-volumes", g)
        wait_group(service, g, ["deleted"])
    service.cinder("delete", other)


def test_volume_create_in_a_group_checks(service, kinds):
    group_id = make_group(service, kinds, "g-create")
    # A type the group does not have: 400.
    res = service.cinder(*V313, "create", "--group-id", group_id, "--volume-type", "grp-other-vt", "1", check=False)
    assert res.returncode != 0
    assert "(requested type must be supported by this group)." in res.stderr and "HTTP 400" in res.stderr
    code, body, _ = service.request("POST", service.url("/volumes"),
                                    {"volume": {"size": 1, "group_id": group_id, "volume_type": "grp-other-vt"}},
                                    version="volume 3.13")
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid input received: Invalid volume_type provided: grp-other-vt (requested type must be supported "
             "by this group).")
    missing = "4d5e6f70-8192-4a3b-8c4d-5e6f70819203"
    code, body, _ = service.request("POST", service.url("/volumes"),
                                    {"volume": {"size": 1, "group_id": missing, "volume_type": "grp-vt"}},
                                    version="volume 3.13")
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group {missing} could not be found.")
    # A group being deleted (or in error) takes no new volumes.
    service.cinder("--os-volume-api-version", "3.20", "reset-state", "--type", "group", "--state", "error", group_id)
    code, body, _ = service.request("POST", service.url("/volumes"),
                                    {"volume": {"size": 1, "group_id": group_id, "volume_type": "grp-vt"}},
                                    version="volume 3.13")
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid Group: Originating group status must be one of 'available, creating' values")
    service.cinder(*V313, "group-delete", group_id)
    assert wait_group(service, group_id, ["deleted"]) == "deleted"


def test_group_versions_and_bad_input(service, kinds):
    res = service.cinder("--os-volume-api-version", "3.12", "group-list", check=False)
    assert res.returncode != 0
    for method, path, body in (("GET", "/groups", None), ("GET", "/groups/detail", None),
                               ("POST", "/groups", {"group": {"group_type": "grp-gt", "volume_types": ["grp-vt"]}})):
        code, resp, _ = service.request(method, service.url(path), body, version="volume 3.12")
        assert (code, resp["itemNotFound"]["message"]) == (404, "The resource could not be found.")

    def post(group):
        return service.request("POST", service.url("/groups"), {"group": group}, version="volume 3.13")

    before = service.db_snapshot()
    code, body, _ = post({"group_type": "grp-gt"})
    assert code == 400 and "'volume_types' is a required property" in body["badRequest"]["message"]
    code, body, _ = post({"volume_types": ["grp-vt"]})
    assert code == 400 and "'group_type' is a required property" in body["badRequest"]["message"]
    code, body, _ = post({"group_type": "grp-gt", "volume_types": []})
    assert code == 400 and "[] is too short" in body["badRequest"]["message"]
    code, body, _ = post({"group_type": "grp-gt", "volume_types": ["grp-vt", "grp-vt"]})
    assert code == 400 and "has non-unique elements" in body["badRequest"]["message"]
    code, body, _ = post({"group_type": "grp-gt", "volume_types": ["no-such-type"]})
    assert (code, body["itemNotFound"]["message"]) == (404, "Volume type with name no-such-type could not be found.")
    code, body, _ = post({"group_type": "no-such-gt", "volume_types": ["grp-vt"]})
    assert (code, body["itemNotFound"]["message"]) == (404, "Group type with name no-such-gt could not be found.")
    code, body, _ = post({"group_type": "default_cgsnapshot_type", "volume_types": ["grp-vt"]})
    assert code == 400 and "is reserved for migrating CGs to groups." in body["badRequest"]["message"]
    code, body, _ = post({"group_type": "grp-gt", "volume_types": ["grp-vt"], "availability_zone": "nowhere"})
    assert (code, body["badRequest"]["message"]) == (400, "Invalid input received: Availability zone 'nowhere' is "
                                                          "invalid.")
    assert service.db_snapshot() == before

    missing = "5e6f7081-92a3-4b4c-9d5e-6f708192a3b4"
    code, body, _ = service.request("GET", service.url(f"/groups/{missing}"), version="volume 3.13")
    assert (code, body["itemNotFound"]["message"]) == (404, f"Group {missing} could not be found.")
    group_id = make_group(service, kinds, "g-bad")
    code, body, _ = service.request("POST", service.url(f"/groups/{group_id}/action"), {"frobnicate": {}},
                                    version="volume 3.13")
    assert code == 400 and "There is no such action: frobnicate" in body["badRequest"]["message"]
    code, body, _ = service.request("POST", service.url(f"/groups/{group_id}/action"),
                                    {"delete": {"delete-volumes": "maybe"}}, version="volume 3.13")
    assert code == 400
    # reset_status is 3.20.
    code, body, _ = service.request("POST", service.url(f"/groups/{group_id}/action"),
                                    {"reset_status": {"status": "error"}}, version="volume 3.19")
    assert code == 404
    code, body, _ = service.request("POST", service.url(f"/groups/{group_id}/action"),
                                    {"reset_status": {"status": "bogus"}}, version="volume 3.20")
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid Group Status: Group status: bogus is invalid, valid status are: ('error', 'available', "
             "'creating', 'deleting', 'deleted', 'updating', 'in-use', 'error_deleting').")
    service.cinder("--os-volume-api-version", "3.20", "reset-state", "--type", "group", "--state", "deleting", group_id)
    assert service.cinder_table(*V313, "group-show", group_id)["status"] == "deleting"
    # Without delete-volumes the status must be available or error.
    res = service.cinder(*V313, "group-delete", group_id, check=False)
    assert res.returncode != 0
    assert "Group status must be available or error, but current status is: deleting" in res.stdout + res.stderr
    # Without --state the client sends no status: Cinder's schema error.
    res = service.cinder("--os-volume-api-version", "3.20", "reset-state", "--type", "group", group_id, check=False)
    assert res.returncode != 0 and "'status' is a required property" in res.stdout + res.stderr
    service.cinder("--os-volume-api-version", "3.20", "reset-state", "--type", "group", "--state", "available",
                   group_id)
    assert service.cinder_table(*V313, "group-show", group_id)["status"] == "available"
    service.cinder(*V313, "group-delete", group_id)
    assert wait_group(service, group_id, ["deleted"]) == "deleted"


def test_a_group_no_backend_takes_fails(service, kinds):
    service.cinder("type-create", "grp-nowhere")
    service.cinder("type-key", "grp-nowhere", "set", "volume_backend_name=no-such-backend")
    made = service.cinder_table(*V313, "group-create", "grp-gt", "grp-vt,grp-nowhere", "--name", "g-nowhere")
    assert wait_group(service, made["id"], ["available", "error"]) == "error"
    service.cinder(*V313, "group-delete", made["id"])
    assert wait_group(service, made["id"], ["deleted"]) == "deleted"


def test_groups_quota(service, kinds):
    code, _, _ = service.request("PUT", service.url(f"/os-quota-sets/{PROJECT}"), {"quota_set": {"groups": 0}})
    assert code == 200
    try:
        res = service.cinder(*V313, "group-create", "grp-gt", "grp-vt", check=False)
        assert res.returncode != 0
        assert "Maximum number of groups allowed (0) exceeded (HTTP 413)" in res.stderr
    finally:
        service.request("PUT", service.url(f"/os-quota-sets/{PROJECT}"), {"quota_set": {"groups": 10}})
    assert make_group(service, kinds, "g-quota")


def test_another_projects_group_is_not_found(tmp_path):
    """auth_strategy = keystone: a member of one project cannot see, change or delete another
    project's group (404), nor make a volume in it."""
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
        made = cinder_cli(ks, *V313, "group-create", "k-gt", "k-vt", "--name", "anns", **people["ann"]).stdout
        group_id = next(r["Value"] for r in table_rows(made) if r["Property"] == "id")
        shown = cinder_cli(ks, *V313, "group-show", group_id, **people["ann"]).stdout
        assert "anns" in shown
        for args in (("group-show", group_id), ("group-update", group_id, "--name", "bobs"),
                     ("group-delete", group_id), ("create", "--group-id", group_id, "--volume-type", "k-vt", "1")):
            res = cinder_cli(ks, *V313, *args, check=False, **people["bob"])
            assert res.returncode != 0, args
            out = res.stdout + res.stderr
            assert "could not be found" in out or "No group with a name or ID" in out, args
        listed = cinder_cli(ks, *V313, "group-list", **people["bob"]).stdout
        assert group_id not in listed
        assert group_id in cinder_cli(ks, *V313, "group-list", **people["ann"]).stdout
        # The admin sees it with --all-tenants.
        assert group_id in cinder_cli(ks, *V313, "group-list", "--all-tenants", "1").stdout
    finally:
        stop_service(proc)
