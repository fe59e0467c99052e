"""QoS specs through the stock client: create, list, show, set and unset keys, associate with a
volume type and back, delete (forced while associated), and their bad input."""
from conftest import table_rows


def test_qos_life_through_the_client(service):
    shown = service.cinder_table("qos-create", "fast-io", "consumer=front-end", "total_iops_sec=1000")
    qos_id = shown["id"]
    assert shown["name"] == "fast-io" and shown["consumer"] == "front-end"
    assert "total_iops_sec : 1000" in shown["specs"]
    rows = table_rows(service.cinder("qos-list").stdout)
    assert [r["Name"] for r in rows if r["ID"] == qos_id] == ["fast-io"]
    service.cinder("qos-key", qos_id, "set", "read_bytes_sec=2048")
    service.cinder("qos-key", qos_id, "unset", "total_iops_sec")
    specs = service.cinder_table("qos-show", qos_id)["specs"]
    assert specs == "read_bytes_sec : 2048"

    type_id = table_rows(service.cinder("type-create", "qos-type").stdout)[0]["ID"]
    service.cinder("qos-associate", qos_id, type_id)
    assoc = table_rows(service.cinder("qos-get-association", qos_id).stdout)
    assert assoc == [{"Association_Type": "volume_type", "Name": "qos-type", "ID": type_id}]
    code, body, _ = service.request("GET", service.url(f"/types/{type_id}"))
    assert body["volume_type"]["qos_specs_id"] == qos_id
    # Another QoS cannot take a type that has one.
    other = service.cinder_table("qos-create", "slow-io", "total_iops_sec=10")["id"]
    res = service.cinder("qos-associate", other, type_id, check=False)
    assert f"Type {type_id} is already associated with another qos specs: {qos_id}" in res.stderr
    # In use: refused unless forced.
    res = service.cinder("qos-delete", qos_id, check=False)
    assert "Qos specs still in use." in res.stderr
    service.cinder("qos-disassociate", qos_id, type_id)
    assert table_rows(service.cinder("qos-get-association", qos_id).stdout) == []
    service.cinder("qos-associate", qos_id, type_id)
    service.cinder("qos-disassociate-all", qos_id)
    service.cinder("qos-associate", qos_id, type_id)
    service.cinder("qos-delete", "--force", "True", qos_id)
    code, body, _ = service.request("GET", service.url(f"/types/{type_id}"))
    assert body["volume_type"]["qos_specs_id"] is None
    res = service.cinder("qos-show", qos_id, check=False)
    assert f"No qosspecs with a name or ID of '{qos_id}' exists." in res.stderr
    code, body, _ = service.request("GET", service.url(f"/qos-specs/{qos_id}"))
    assert (code, body["itemNotFound"]["message"]) == (404, f"No such QoS spec {qos_id}.")
    service.cinder("qos-delete", other)


def test_qos_bad_input(service):
    code, body, _ = service.request("POST", service.url("/qos-specs"), {"qos_specs": {"consumer": "both"}})
    assert (code, body["badRequest"]["message"]) == (400, "'name' is a required property")
    code, body, _ = service.request("POST", service.url("/qos-specs"),
                                    {"qos_specs": {"name": "q", "consumer": "sideways"}})
    assert code == 400 and "consumer must be one of front-end, back-end, both" in body["badRequest"]["message"]
    code, body, _ = service.request("POST", service.url("/qos-specs"), {"qos_specs": {"name": "dup"}})
    assert code == 200
    code, body, _ = service.request("POST", service.url("/qos-specs"), {"qos_specs": {"name": "dup"}})
    assert (code, body["conflictingRequest"]["message"]) == (409, "QoS Specs dup already exists.")
    qos_id = service.request("GET", service.url("/qos-specs"))[1]["qos_specs"][0]["id"]
    code, body, _ = service.request("GET", service.url(f"/qos-specs/{qos_id}/associate"))
    assert (code, body["badRequest"]["message"]) == (400, "Volume Type id must not be None.")
    code, body, _ = service.request("PUT", service.url(f"/qos-specs/{qos_id}/delete_keys"), {"keys": ["nokey"]})
    assert (code, body["itemNotFound"]["message"]) == (404, f"QoS spec {qos_id} has no spec with key nokey.")
