"""Volume type encryption (Cinder's volume_type_encryption extension) through the stock client:
encryption-type-create / show / list / update / delete; Cinder's schema messages for bad values,
the refusal while volumes have the type, and its admin-only rules."""
import sqlite3

from conftest import start_service, stop_service, table_rows


def make_type(service, name):
    return table_rows(service.cinder("type-create", name).stdout)[0]["ID"]


def test_encryption_type_life_through_the_client(service):
    type_id = make_type(service, "enc-luks")
    # None yet: the index answers {} and the client shows an empty table.
    code, body, _ = service.request("GET", service.url(f"/types/{type_id}/encryption"))
    assert (code, body) == (200, {})
    assert table_rows(service.cinder("encryption-type-show", "enc-luks").stdout) == []

    rows = table_rows(service.cinder("encryption-type-create", "enc-luks", "luks", "--cipher", "aes-xts-plain64",
                                     "--key-size", "256", "--control-location", "front-end").stdout)
    assert rows == [{"Volume Type ID": type_id, "Provider": "luks", "Cipher": "aes-xts-plain64", "Key Size": "256",
                     "Control Location": "front-end"}]
    code, body, _ = service.request("GET", service.url(f"/types/{type_id}/encryption"))
    assert code == 200
    assert set(body) == {"volume_type_id", "control_location", "deleted", "created_at", "updated_at",
                         "encryption_id", "key_size", "provider", "deleted_at", "cipher"}
    assert (body["volume_type_id"], body["provider"], body["cipher"], body["key_size"], body["control_location"],
            body["deleted"], body["deleted_at"], body["updated_at"]) == (type_id, "luks", "aes-xts-plain64", 256,
                                                                         "front-end", False, None, None)
    code, one, _ = service.request("GET", service.url(f"/types/{type_id}/encryption/cipher"))
    assert (code, one) == (200, {"cipher": "aes-xts-plain64"})
    code, one, _ = service.request("GET", service.url(f"/types/{type_id}/encryption/nope"))
    assert (code, one["itemNotFound"]["message"]) == (404, f"Volume type encryption for type {type_id} does not exist.")

    listed = table_rows(service.cinder("encryption-type-list").stdout)
    assert [r["Provider"] for r in listed if r["Volume Type ID"] == type_id] == ["luks"]

    rows = table_rows(service.cinder("encryption-type-update", "enc-luks", "--key-size", "512", "--control-location",
                                     "back-end", "--cipher").stdout)
    assert rows == [{"Volume Type ID": type_id, "Provider": "luks", "Cipher": "-", "Key Size": "512",
                     "Control Location": "back-end"}]
    code, body, _ = service.request("PUT", service.url(f"/types/{type_id}/encryption/provider"),
                                    {"encryption": {"provider": "plain", "key_size": "128"}})
    assert (code, body) == (200, {"encryption": {"provider": "plain", "key_size": 128}})
    code, body, _ = service.request("GET", service.url(f"/types/{type_id}/encryption"))
    assert (body["provider"], body["key_size"], body["cipher"]) == ("plain", 128, None)
    assert body["updated_at"] is not None

    # A second create is refused; the answer to a create names the type and the new id.
    code, body, _ = service.request("POST", service.url(f"/types/{type_id}/encryption"),
                                    {"encryption": {"provider": "luks", "control_location": "front-end"}})
    assert (code, body["badRequest"]["message"]) == (400, f"Volume type encryption for type {type_id} already exists.")

    service.cinder("encryption-type-delete", "enc-luks")
    assert table_rows(service.cinder("encryption-type-show", "enc-luks").stdout) == []
    code, body, _ = service.request("DELETE", service.url(f"/types/{type_id}/encryption/provider"))
    assert (code, body["itemNotFound"]["message"]) == (404, f"Volume type encryption for type {type_id} does not exist.")
    code, body, _ = service.request("POST", service.url(f"/types/{type_id}/encryption"),
                                    {"encryption": {"provider": "luks", "control_location": "back-end",
                                                    "cipher": None, "key_size": None}})
    assert code == 200
    enc = body["encryption"]
    assert (enc["provider"], enc["control_location"], enc["cipher"], enc["key_size"], enc["volume_type_id"]) == (
        "luks", "back-end", None, None, type_id)
    assert len(enc["encryption_id"]) == 36
    # Deleting the type deletes its encryption.
    def live_rows():
        con = sqlite3.connect(service.db_path)
        try:
            return con.execute("SELECT COUNT(*) FROM encryption WHERE deleted = 0 AND volume_type_id = ?",
                               (type_id,)).fetchone()[0]
        finally:
            con.close()

    assert live_rows() == 1
    service.cinder("type-delete", "enc-luks")
    assert live_rows() == 0


def test_bad_values_are_cinders_400(service):
    type_id = make_type(service, "enc-bad")
    url = service.url(f"/types/{type_id}/encryption")
    rows_before = service.db_snapshot()
    cases = [
        ({}, "'encryption' is a required property"),
        ({"encryption": "x"}, "Invalid input for field/attribute encryption. Value: x. 'x' is not of type 'object'"),
        ({"encryption": {"provider": "luks"}},
         "Invalid input for field/attribute encryption. Value: {'provider': 'luks'}. "
         "'control_location' is a required property"),
        ({"encryption": {"control_location": "front-end"}},
         "Invalid input for field/attribute encryption. Value: {'control_location': 'front-end'}. "
         "'provider' is a required property"),
        ({"encryption": {"provider": "luks", "control_location": "middle"}},
         "Invalid input for field/attribute control_location. Value: middle. "
         "'middle' is not one of ['front-end', 'back-end']"),
        ({"encryption": {"provider": "luks", "control_location": "front-end", "key_size": "abc"}},
         "Invalid input received: key_size must be an integer."),
        ({"encryption": {"provider": "luks", "control_location": "front-end", "key_size": -1}},
         "Invalid input for field/attribute key_size. Value: -1. -1 is less than the minimum of 0"),
        ({"encryption": {"provider": "luks", "control_location": "front-end", "key_size": 1.5}},
         "Invalid input for field/attribute key_size. Value: 1.5. 1.5 is not of type 'string', 'integer', 'null'"),
        ({"encryption": {"provider": 7, "control_location": "front-end"}},
         "Invalid input for field/attribute provider. Value: 7. 7 is not of type 'string'"),
        ({"encryption": {"provider": "luks", "control_location": "front-end", "cipher": 1}},
         "Invalid input for field/attribute cipher. Value: 1. 1 is not of type 'string', 'null'"),
        ({"encryption": {"provider": "luks", "control_location": "front-end"}, "extra": 1},
         "Additional properties are not allowed ('extra' was unexpected)"),
    ]
    for body, message in cases:
        code, answer, _ = service.request("POST", url, body)
        assert (code, answer["badRequest"]["message"]) == (400, message), body
    code, answer, _ = service.request("PUT", url + "/provider", {"encryption": {"control_location": "x"}})
    assert (code, answer["badRequest"]["message"]) == (
        400, "Invalid input for field/attribute control_location. Value: x. 'x' is not one of ['front-end', 'back-end']")
    res = service.cinder("encryption-type-create", "enc-bad", "luks", "--key-size", "-8", check=False)
    assert res.returncode != 0 and "-8 is less than the minimum of 0 (HTTP 400)" in res.stderr
    assert service.db_snapshot() == rows_before
    # An unknown type is 404.
    missing = "00000000-0000-0000-0000-000000000000"
    code, answer, _ = service.request("GET", service.url(f"/types/{missing}/encryption"))
    assert (code, answer["itemNotFound"]["message"]) == (404, f"Volume type {missing} could not be found.")
    code, answer, _ = service.request("POST", service.url(f"/types/{missing}/encryption"),
                                      {"encryption": {"provider": "luks", "control_location": "front-end"}})
    assert code == 404


def test_a_type_in_use_keeps_its_encryption(service):
    make_type(service, "enc-used")
    vol = service.cinder_table("create", "--volume-type", "enc-used", "1")["id"]
    service.wait_status(vol, ["available"])
    res = service.cinder("encryption-type-create", "enc-used", "luks", check=False)
    assert res.returncode != 0 and "Cannot create encryption specs. Volume type in use. (HTTP 400)" in res.stderr
    service.cinder("delete", vol)
    service.wait_status(vol, ["deleted"])
    service.cinder("encryption-type-create", "enc-used", "luks")
    vol = service.cinder_table("create", "--volume-type", "enc-used", "1")["id"]
    service.wait_status(vol, ["available"])
    res = service.cinder("encryption-type-update", "enc-used", "--provider", "plain", check=False)
    assert res.returncode != 0 and "Cannot update encryption specs. Volume type in use. (HTTP 400)" in res.stderr
    res = service.cinder("encryption-type-delete", "enc-used", check=False)
    assert res.returncode != 0 and "Cannot delete encryption specs. Volume type in use. (HTTP 400)" in res.stderr
    assert [r["Provider"] for r in table_rows(service.cinder("encryption-type-show", "enc-used").stdout)] == ["luks"]
    service.cinder("delete", vol)
    service.wait_status(vol, ["deleted"])
    service.cinder("encryption-type-delete", "enc-used")


def test_only_admins_manage_encryption(tmp_path_factory):
    from test_identity import IDENTITY_CONF, bootstrap, cinder_cli, openstack

    state = tmp_path_factory.mktemp("enc-ks")
    proc, ks = start_service(state, extra=IDENTITY_CONF, log_file=str(state / "service.log"))
    try:
        bootstrap(ks)
        openstack(ks, "project", "create", "--domain", "default", "proj-a")
        openstack(ks, "user", "create", "--domain", "default", "--project", "proj-a", "--password", "alice-pw", "alice")
        openstack(ks, "role", "add", "--project", "proj-a", "--user", "alice", "member")
        alice = {"user": "alice", "password": "alice-pw", "project": "proj-a"}
        type_id = table_rows(cinder_cli(ks, "type-create", "enc-ks").stdout)[0]["ID"]
        cinder_cli(ks, "encryption-type-create", type_id, "luks")
        for args, rule in ((("encryption-type-show", type_id), "get"),
                           (("encryption-type-create", type_id, "plain"), "create"),
                           (("encryption-type-update", type_id, "--provider", "plain"), "update"),
                           (("encryption-type-delete", type_id), "delete")):
            res = cinder_cli(ks, *args, check=False, **alice)
            assert res.returncode != 0, args
            assert (f"Policy doesn't allow volume_extension:volume_type_encryption:{rule} to be performed. (HTTP 403)"
                    in res.stderr), (args, res.stderr)
        assert "luks" in cinder_cli(ks, "encryption-type-show", type_id).stdout
    finally:
        stop_service(proc)
