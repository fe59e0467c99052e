"""Bad input over HTTP: Cinder's status code and message, and nothing changed."""
import os

import pytest


@pytest.fixture
def volume(service):
    code, body, _ = service.request("POST", service.url("/volumes"), {"volume": {"size": 2, "name": "keep"}})
    assert code == 202
    vol_id = body["volume"]["id"]
    service.wait_status(vol_id, ["available"])
    yield vol_id
    service.request("POST", service.url(f"/volumes/{vol_id}/action"), {"os-force_delete": {}})
    service.wait_status(vol_id, ["deleted"])


def fault(body):
    (name, inner), = body.items()
    return name, inner["code"], inner["message"]


CREATE_CASES = [
    ({"volume": {"size": 0}}, 400, "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1"),
    ({"volume": {"size": -1}}, 400, "Invalid input for field/attribute size. Value: -1. -1 is less than the minimum of 1"),
    ({"volume": {"size": "abc"}}, 400, "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'"),
    ({"volume": {"size": 1.5}}, 400, "Invalid input for field/attribute size. Value: 1.5. 1.5 is not of type 'integer', 'string', 'null'"),
    ({"volume": {"name": "nosize"}}, 400, "Invalid input received: Volume size 'None' must be an integer and greater than 0."),
    # Integers past 64 bits are out of range, as in Cinder; they used to wrap (2^64 + 1 made a 1 GiB volume).
    ({"volume": {"size": 18446744073709551617}}, 400,
     "Invalid input for field/attribute size. Value: 18446744073709551617. "
     "18446744073709551617 is greater than the maximum of 2147483647"),
    ({"volume": {"size": 18446744073709551616}}, 400,
     "Invalid input for field/attribute size. Value: 18446744073709551616. "
     "18446744073709551616 is greater than the maximum of 2147483647"),
    ({"volume": {"size": -18446744073709551617}}, 400,
     "Invalid input for field/attribute size. Value: -18446744073709551617. "
     "-18446744073709551617 is less than the minimum of 1"),
    # A float prints as Python's repr() prints it.
    ({"volume": {"size": 1.0}}, 400, "Invalid input for field/attribute size. Value: 1.0. 1.0 is not of type 'integer', 'string', 'null'"),
]


@pytest.mark.parametrize("body,code,message", CREATE_CASES)
def test_bad_create_changes_nothing(service, body, code, message):
    before = service.db_snapshot()
    status, reply, _ = service.request("POST", service.url("/volumes"), body)
    assert status == code
    name, inner_code, text = fault(reply)
    assert (name, inner_code) == ("badRequest", code)
    assert text.startswith(message)
    assert service.db_snapshot() == before


def test_unknown_volume_is_404_for_every_verb(service):
    missing = "9a0c5d3e-0000-4000-8000-000000000000"
    before = service.db_snapshot()
    for method, suffix, body in [("GET", "", None), ("PUT", "", {"volume": {"name": "x"}}),
                                 ("DELETE", "", None),
                                 ("POST", "/action", {"os-extend": {"new_size": 3}}),
                                 ("GET", "/metadata", None),
                                 ("POST", "/metadata", {"metadata": {"a": "b"}})]:
        status, reply, _ = service.request(method, service.url(f"/volumes/{missing}{suffix}"), body)
        assert status == 404, (method, suffix)
        assert fault(reply) == ("itemNotFound", 404, f"Volume {missing} could not be found.")
    assert service.db_snapshot() == before


def test_a_resource_path_with_a_trailing_slash_is_404(service):
    """As Cinder's routes (Tempest's *_without_passing_volume_id tests): /volumes/ is no list,
    and a show, update or delete of an empty id is 404; a snapshot of volume null is 404."""
    before = service.db_snapshot()
    for method, body in [("GET", None), ("PUT", {"volume": {"name": "x"}}), ("DELETE", None)]:
        status, reply, _ = service.request(method, service.url("/volumes/"), body)
        assert status == 404 and fault(reply) == ("itemNotFound", 404, "The resource could not be found."), method
    status, reply, _ = service.request("POST", service.url("/snapshots"), {"snapshot": {"volume_id": None}})
    assert status == 404 and fault(reply) == ("itemNotFound", 404, "Volume None could not be found.")
    assert service.db_snapshot() == before
    assert service.request("GET", service.url("/volumes"))[0] == 200


def test_malformed_json_is_400(service):
    before = service.db_snapshot()
    status, reply, _ = service.request("POST", service.url("/volumes"), raw='{"volume": {"size": 1,')
    assert status == 400
    assert fault(reply) == ("badRequest", 400, "Malformed request body")
    assert service.db_snapshot() == before


RAW_CASES = [
    # Python's json keeps the last of repeated keys, so does Cinder's validation.
    (b'{"volume": {"size": 1, "size": 0}}', "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1"),
    (b'{"volume": {"size": 1, "size": 18446744073709551617}}',
     "Invalid input for field/attribute size. Value: 18446744073709551617. "
     "18446744073709551617 is greater than the maximum of 2147483647"),
    # Not JSON that Cinder reads: invalid UTF-8, a lone surrogate, nesting past 64 levels, a
    # number too large for a double, text after the body.
    (b'{"volume": {"size": 1, "name": "\xff"}}', "Malformed request body"),
    (b'{"volume": {"size": 1, "name": "\xed\xa0\x80"}}', "Malformed request body"),
    (b'{"volume": {"size": 1, "name": "\\ud800"}}', "Malformed request body"),
    (b'{"volume": {"size": 1, "metadata": {"k": ' + b"[" * 62 + b"]" * 62 + b"}}}", "Malformed request body"),
    (b"[" * 50000 + b"]" * 50000, "Malformed request body"),
    (b'{"volume": {"size": 1e400}}', "Malformed request body"),
    (b'{"volume": {"size": 1}} {}', "Malformed request body"),
]


@pytest.mark.parametrize("raw,message", RAW_CASES)
def test_bad_raw_body_changes_nothing(service, raw, message):
    before = service.db_snapshot()
    status, reply, _ = service.request("POST", service.url("/volumes"), raw=raw)
    assert status == 400
    assert fault(reply) == ("badRequest", 400, message)
    assert service.db_snapshot() == before


def test_repeated_keys_keep_the_last_value(service):
    status, reply, _ = service.request("POST", service.url("/volumes"),
                                       raw=b'{"volume": {"size": 9, "name": "first", "size": 1, "name": "last"}}')
    assert status == 202
    assert (reply["volume"]["size"], reply["volume"]["name"]) == (1, "last")
    vol_id = reply["volume"]["id"]
    service.wait_status(vol_id, ["available"])
    service.request("DELETE", service.url(f"/volumes/{vol_id}"))
    service.wait_status(vol_id, ["deleted"])


def test_body_over_the_limit_is_413(service):
    before = service.db_snapshot()
    big = {"volume": {"size": 1, "description": "x" * 200000}}
    status, reply, _ = service.request("POST", service.url("/volumes"), big)
    assert status == 413
    name, code, text = fault(reply)
    assert (name, code) == ("overLimit", 413)
    assert "Request is too large" in text and "114688" in text
    assert service.db_snapshot() == before


def test_microversions_out_of_range_and_malformed(service):
    status, reply, headers = service.request("GET", service.url("/volumes"), version="volume 3.99")
    assert status == 406
    assert fault(reply) == ("computeFault", 406,
                            "Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.70.")
    status, reply, _ = service.request("GET", service.url("/volumes"), version="volume three")
    assert status == 400
    assert "is of invalid format" in fault(reply)[2]
    status, _, headers = service.request("GET", service.url("/volumes"), version=None)
    assert status == 200
    assert headers["OpenStack-API-Version"] == "volume 3.0"
    assert headers["Vary"] == "OpenStack-API-Version"


def test_extend_to_a_smaller_size_changes_nothing(service, volume):
    before = service.db_snapshot()
    for new_size in (1, 2):
        status, reply, _ = service.request("POST", service.url(f"/volumes/{volume}/action"),
                                           {"os-extend": {"new_size": new_size}})
        assert status == 400
        assert fault(reply)[2] == ("Invalid input received: New size for extend must be greater than "
                                   f"current size. (current: 2, extended: {new_size}).")
    assert service.db_snapshot() == before
    assert os.stat(os.path.join(service.volume_dir, f"volume-{volume}")).st_size == 2 * 1024 ** 3


def test_delete_in_a_forbidden_state_changes_nothing(service, volume):
    status, _, _ = service.request("POST", service.url(f"/volumes/{volume}/action"),
                                   {"os-reset_status": {"status": "extending"}})
    assert status == 202
    before = service.db_snapshot()
    status, reply, _ = service.request("DELETE", service.url(f"/volumes/{volume}"))
    assert status == 400
    assert fault(reply) == ("badRequest", 400,
                            "Invalid volume: Volume status must be available or error or error_restoring or "
                            "error_extending or error_managing and must not be migrating, attached, belong to "
                            "a group, have snapshots, awaiting a transfer, or be disassociated from snapshots "
                            "after volume transfer.")
    assert service.db_snapshot() == before
    res = service.cinder("delete", volume, check=False)
    assert res.returncode != 0 and "Invalid volume: Volume status must be available" in res.stdout + res.stderr
    assert service.db_snapshot() == before


def test_versions_document_at_the_root(service):
    status, body, _ = service.request("GET", "/", version=None, headers={"X-Auth-Token": ""})
    assert status == 300
    (v,) = body["versions"]
    assert (v["id"], v["status"], v["min_version"], v["version"]) == ("v3.0", "CURRENT", "3.0", "3.70")
    assert v["links"][1] == {"rel": "self", "href": f"http://{service.host}:{service.port}/v3/"}
