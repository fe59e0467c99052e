"""Generic volume groups through the stock client: group types and group specs (3.11), and
their bad input."""
from conftest import start_service, stop_service, table_rows

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
