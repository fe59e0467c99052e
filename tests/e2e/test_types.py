"""Volume types and extra specs through the stock client, and their bad input."""
from conftest import table_rows


def test_type_life_through_the_client(service):
    created = table_rows(service.cinder("type-create", "gold", "--description", "fast disks").stdout)[0]
    assert created["Name"] == "gold"
    assert created["Description"] == "fast disks"
    assert created["Is_Public"] == "True"
    type_id = created["ID"]
    service.cinder("type-key", "gold", "set", "volume_backend_name=file", "tier=1")
    specs = {r["Name"]: r["extra_specs"] for r in table_rows(service.cinder("extra-specs-list").stdout)}
    assert "'tier': '1'" in specs["gold"] and "'volume_backend_name': 'file'" in specs["gold"]
    shown = service.cinder_table("type-show", type_id)
    assert shown["extra_specs"] == "tier : 1\nvolume_backend_name : file"
    service.cinder("type-key", "gold", "unset", "tier")
    assert "tier" not in service.cinder_table("type-show", type_id)["extra_specs"]
    names = [r["Name"] for r in table_rows(service.cinder("type-list").stdout)]
    assert "gold" in names and "__DEFAULT__" in names

    service.cinder("type-update", type_id, "--name", "platinum", "--description", "faster")
    assert service.cinder_table("type-show", type_id)["name"] == "platinum"

    # A volume of the type; the type cannot go while the volume exists.
    vol = service.cinder_table("create", "--volume-type", "platinum", "1")
    assert vol["volume_type"] == "platinum"
    res = service.cinder("type-delete", type_id, check=False)
    assert "Target volume type is still in use." in res.stdout + res.stderr
    service.cinder("delete", vol["id"])
    service.wait_status(vol["id"], {"deleted"})
    service.cinder("type-delete", type_id)
    res = service.cinder("type-show", type_id, check=False)
    assert res.returncode != 0


def test_type_bad_input(service):
    def post(body):
        return service.request("POST", service.url("/types"), body)

    code, body, _ = post({"volume_type": {"description": "x"}})
    assert (code, body["badRequest"]["message"]) == (400, "'name' is a required property")
    code, body, _ = post({"volume_type": {"name": "t1", "color": "red"}})
    assert (code, body["badRequest"]["message"]) == (400, "Additional properties are not allowed ('color' was unexpected)")
    code, body, _ = post({"volume_type": {"name": "t1", "extra_specs": {"bad key!": "v"}}})
    assert code == 400 and "does not match any of the regexes" in body["badRequest"]["message"]
    code, body, _ = post({"volume_type": {"name": "t1", "os-volume-type-access:is_public": "maybe"}})
    assert code == 400
    rows_before = service.db_snapshot()
    code, body, _ = post({"volume_type": {"name": "__DEFAULT__"}})
    assert (code, body["conflictingRequest"]["message"]) == (409, "Volume Type __DEFAULT__ already exists.")
    assert service.db_snapshot() == rows_before

    code, body, _ = service.request("GET", service.url("/types/default"))
    assert code == 200 and body["volume_type"]["name"] == "__DEFAULT__"
    default_id = body["volume_type"]["id"]
    code, body, _ = service.request("DELETE", service.url(f"/types/{default_id}"))
    assert (code, body["badRequest"]["message"]) == (
        400, f"The volume type {default_id} is a default volume type and cannot be deleted.")
    missing = "0b5c6e8e-2f0e-4a38-a3d2-8f4c0a8f7d11"
    code, body, _ = service.request("GET", service.url(f"/types/{missing}"))
    assert (code, body["itemNotFound"]["message"]) == (404, f"Volume type {missing} could not be found.")
    code, body, _ = service.request("GET", service.url(f"/types/{default_id}/extra_specs/nokey"))
    assert (code, body["itemNotFound"]["message"]) == (
        404, f"Volume Type {default_id} has no extra specs with key nokey.")
    code, body, _ = service.request("PUT", service.url(f"/types/{default_id}/extra_specs/a"), {"b": "1"})
    assert (code, body["badRequest"]["message"]) == (400, "Request body and URI mismatch")
    code, body, _ = service.request("PUT", service.url(f"/types/{default_id}"), {"volume_type": {}})
    assert (code, body["badRequest"]["message"]) == (
        400, "Specify volume type name, description, is_public or a combination thereof.")
    code, body, _ = service.request("GET", service.url("/types?is_public=maybe"))
    assert (code, body["badRequest"]["message"]) == (400, "Invalid is_public filter [maybe]")


def test_private_types_and_their_access_lists(service):
    created = table_rows(service.cinder("type-create", "secret", "--is-public", "false").stdout)[0]
    assert created["Is_Public"] == "False"
    type_id = created["ID"]
    service.cinder("type-access-add", "--volume-type", type_id, "--project-id", "p-one")
    service.cinder("type-access-add", "--volume-type", type_id, "--project-id", "p-two")
    rows = table_rows(service.cinder("type-access-list", "--volume-type", type_id).stdout)
    assert sorted(r["Project_ID"] for r in rows) == ["p-one", "p-two"]
    res = service.cinder("type-access-add", "--volume-type", type_id, "--project-id", "p-one", check=False)
    assert f"Volume type access for {type_id} / p-one combination already exists." in res.stderr
    service.cinder("type-access-remove", "--volume-type", type_id, "--project-id", "p-two")
    res = service.cinder("type-access-remove", "--volume-type", type_id, "--project-id", "p-two", check=False)
    assert f"Volume type access not found for {type_id} / p-two combination." in res.stderr
    # GET /types shows public types only; is_public=None (what the client asks) shows all.
    names = [r["Name"] for r in table_rows(service.cinder("type-list").stdout)]
    assert "secret" in names
    code, body, _ = service.request("GET", service.url("/types"))
    assert "secret" not in [t["name"] for t in body["volume_types"]]
    # Public types have no access list.
    code, body, _ = service.request("GET", service.url("/types/default"))
    default_id = body["volume_type"]["id"]
    code, body, _ = service.request("GET", service.url(f"/types/{default_id}/os-volume-type-access"))
    assert (code, body["itemNotFound"]["message"]) == (404, "Access list not available for public volume types.")
    code, body, _ = service.request("POST", service.url(f"/types/{default_id}/action"),
                                    {"addProjectAccess": {"project": "x"}})
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid volume type: Type access modification is not applicable to public volume type.")


def test_project_default_types(service):
    from conftest import PROJECT
    created = table_rows(service.cinder("type-create", "bronze-default").stdout)[0]
    type_id = created["ID"]
    shown = service.cinder_table("default-type-set", "bronze-default", PROJECT)
    assert shown["project_id"] == PROJECT and shown["volume_type_id"] == type_id
    rows = table_rows(service.cinder("default-type-list").stdout)
    assert {"Volume Type ID": type_id, "Project ID": PROJECT} in rows
    # A volume that names no type gets the project's default; /types/default says which.
    vol = service.cinder_table("create", "1")
    assert vol["volume_type"] == "bronze-default"
    code, body, _ = service.request("GET", service.url("/types/default"))
    assert body["volume_type"]["id"] == type_id
    # A project's default type cannot be deleted while it is one.
    service.cinder("delete", vol["id"])
    service.wait_status(vol["id"], {"deleted"})
    res = service.cinder("type-delete", type_id, check=False)
    assert f"The volume type {type_id} is a default volume type and cannot be deleted." in res.stdout + res.stderr
    out = service.cinder("default-type-unset", PROJECT).stdout
    assert f"Default volume type for project {PROJECT} has been unset successfully." in out
    assert service.cinder_table("create", "1")["volume_type"] == "__DEFAULT__"
    code, body, _ = service.request("GET", service.url(f"/default-types/{PROJECT}"))
    assert (code, body["itemNotFound"]["message"]) == (404, f"Default type for project {PROJECT} not found.")
    code, body, _ = service.request("PUT", service.url(f"/default-types/{PROJECT}"),
                                    {"default_type": {"volume_type": "nosuchtype"}})
    assert (code, body["badRequest"]["message"]) == (400, "Volume type with name nosuchtype could not be found.")
    code, body, _ = service.request("GET", service.url("/default-types"), version="volume 3.61")
    assert code == 404


def test_type_lists_page_sort_and_filter_by_extra_specs(service):
    """GET /types and /group_types take Cinder's limit, marker, offset and sort; from 3.52 the
    stock client's `type-list --filters extra_specs=...` finds the types with those specs."""
    names = [f"page-{i}" for i in range(4)]
    ids = {}
    for i, name in enumerate(names):
        ids[name] = table_rows(service.cinder("type-create", name).stdout)[0]["ID"]
        service.cinder("type-key", name, "set", f"tier=t{i % 2}")
    gnames = [f"gpage-{i}" for i in range(3)]
    gids = {n: table_rows(service.cinder("--os-volume-api-version", "3.11", "group-type-create", n).stdout)[0]["ID"]
            for n in gnames}
    try:
        def listed(path, version="volume 3.52"):
            code, body, _ = service.request("GET", service.url(path), version=version)
            assert code == 200, body
            key = "volume_types" if path.startswith("/types") else "group_types"
            return [t["name"] for t in body[key]]

        # Sorted by name both ways, then pages through a marker, offset and limit.
        mine = [n for n in listed("/types?sort=name:asc") if n.startswith("page-")]
        assert mine == names
        assert [n for n in listed("/types?sort=name:desc") if n.startswith("page-")] == names[::-1]
        assert listed(f"/types?sort=name:asc&limit=2&marker={ids['page-0']}") == ["page-1", "page-2"]
        assert listed(f"/types?sort=name:asc&offset=1&limit=1&marker={ids['page-1']}") == ["page-3"]
        # The default order: newest first.
        assert [n for n in listed("/types") if n.startswith("page-")] == names[::-1]
        code, body, _ = service.request("GET", service.url("/types?sort=colour"))
        assert (code, body["badRequest"]["message"]) == (400, "Invalid input received: Invalid sort key colour")
        missing = "7a1d1e42-5b8f-4a4e-9c55-2f7f0d6b7a11"
        code, body, _ = service.request("GET", service.url(f"/types?marker={missing}"))
        assert code == 404 and missing in body["itemNotFound"]["message"]

        # extra_specs (3.52): the stock client's --filters, and the REST form Cinder reads.
        v352 = ("--os-volume-api-version", "3.52")
        rows = table_rows(service.cinder(*v352, "type-list", "--filters", "extra_specs={tier:t1}").stdout)
        assert sorted(r["Name"] for r in rows) == ["page-1", "page-3"]
        assert listed("/types?extra_specs={'tier':'t0'}&sort=name:asc") == ["page-0", "page-2"]
        assert listed("/types?extra_specs={'tier':'t9'}") == []
        # Before 3.52 the filter is not Cinder's: dropped for the admin too.
        assert set(names) <= set(listed("/types?extra_specs={'tier':'t9'}", version="volume 3.51"))
        code, body, _ = service.request("GET", service.url("/types?extra_specs=nonsense"), version="volume 3.52")
        assert code == 400
        # An admin's filter on a column matches it; on anything else, nothing.
        assert listed("/types?name=page-2") == ["page-2"]
        assert listed("/types?colour=blue") == []

        # Group types page and sort the same way.
        gm = [n for n in listed("/group_types?sort=name:asc", "volume 3.11") if n.startswith("gpage-")]
        assert gm == gnames
        assert listed(f"/group_types?sort=name:asc&limit=1&marker={gids['gpage-0']}", "volume 3.11") == ["gpage-1"]
        code, body, _ = service.request("GET", service.url("/group_types?sort=colour"), version="volume 3.11")
        assert (code, body["badRequest"]["message"]) == (400, "Invalid input received: Invalid sort key colour")
    finally:
        for name in names:
            service.cinder("type-delete", name)
        for name in gnames:
            service.cinder("--os-volume-api-version", "3.11", "group-type-delete", name)


def test_type_create_and_update_answer_types_manage_view(service):
    """POST and PUT /types answer types_manage.py's view (every extra spec, no qos_specs_id;
    os-volume-type-access:is_public on a create only), which Tempest's schemas hold to; GET
    answers the v3 view with qos_specs_id for an admin."""
    code, body, _ = service.request("POST", service.url("/types"),
                                    {"volume_type": {"name": "viewed", "extra_specs": {"k": "v"}}})
    assert code == 200, body
    created = body["volume_type"]
    assert sorted(created) == ["description", "extra_specs", "id", "is_public", "name",
                               "os-volume-type-access:is_public"]
    assert created["extra_specs"] == {"k": "v"}
    code, body, _ = service.request("PUT", service.url(f"/types/{created['id']}"),
                                    {"volume_type": {"description": "d"}})
    assert code == 200 and sorted(body["volume_type"]) == ["description", "extra_specs", "id", "is_public", "name"]
    code, body, _ = service.request("GET", service.url(f"/types/{created['id']}"))
    assert code == 200 and "qos_specs_id" in body["volume_type"]
    assert service.request("DELETE", service.url(f"/types/{created['id']}"))[0] == 202
