"""User messages (API 3.3) through the stock client: a create and an extend the backend cannot
carry out leave the volume in error with a message saying why, which the user lists, shows and
deletes."""
import os

from conftest import start_service, stop_service, table_rows


def message_rows(service, *args):
    return table_rows(service.cinder("message-list", *args).stdout)


def test_failed_work_is_explained_by_user_messages(tmp_path):
    proc, service = start_service(tmp_path)
    try:
        healthy = service.cinder_table("create", "--name", "healthy", "1")["id"]
        assert service.wait_status(healthy, {"available"}) == "available"
        assert message_rows(service) == []

        # The backend's directory becomes unusable: the driver fails what it is asked to do.
        os.rename(service.volume_dir, service.volume_dir + ".away")
        with open(service.volume_dir, "w"):
            pass
        broken = service.cinder_table("create", "--name", "broken", "1")["id"]
        assert service.wait_status(broken, {"error", "available"}) == "error"
        service.cinder("extend", healthy, "2")
        assert service.wait_status(healthy, {"error_extending", "available"}) == "error_extending"

        rows = message_rows(service)
        # The failed create was rescheduled, and with no other pool to try it could not be
        # placed again: two messages, as Cinder gives.
        events = sorted((r["Resource UUID"], r["Event ID"], r["User Message"]) for r in rows)
        assert events == sorted([
            (broken, "VOLUME_VOLUME_008_012", "create volume from backend storage:Driver failed to create the volume."),
            (broken, "VOLUME_VOLUME_001_003", "schedule allocate volume:Could not find any available weighted backend."),
            (healthy, "VOLUME_VOLUME_007_010", "extend volume:Volume Driver failed to extend volume."),
        ]), rows
        assert all(r["Resource Type"] == "VOLUME" for r in rows)

        # Filters (3.33) and paging (3.5) of the client.
        only = message_rows(service, "--filters", f"resource_uuid={broken}")
        assert sorted(r["Resource UUID"] for r in only) == [broken, broken]
        assert len(message_rows(service, "--limit", "1")) == 1

        msg_id = next(r["ID"] for r in rows if r["Event ID"] == "VOLUME_VOLUME_008_012")
        shown = service.cinder_table("message-show", msg_id)
        assert shown["resource_uuid"] == broken
        assert shown["event_id"] == "VOLUME_VOLUME_008_012"
        assert shown["message_level"] == "ERROR"
        assert shown["request_id"].startswith("req-")
        assert shown["guaranteed_until"] > shown["created_at"]

        service.cinder("message-delete", msg_id)
        res = service.cinder("message-show", msg_id, check=False)
        assert res.returncode != 0
        assert f"No message with a name or ID of '{msg_id}' exists." in res.stderr
        assert sorted(r["Resource UUID"] for r in message_rows(service)) == sorted([healthy, broken])
    finally:
        stop_service(proc)


def test_messages_api_versions_and_bad_input(service):
    code, body, _ = service.request("GET", service.url("/messages"), version="volume 3.0")
    assert code == 404
    assert body == {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}
    # An admin's filter on no column of messages matches nothing, as in Cinder's database
    # layer (a member's is refused: test_filters.py).
    code, body, _ = service.request("GET", service.url("/messages?bogus=1"))
    assert (code, body["messages"]) == (200, [])
    code, body, _ = service.request("GET", service.url("/messages?all_tenants=1"))
    assert code == 200
    code, body, _ = service.request("GET", service.url("/messages?limit=x"))
    assert (code, body["badRequest"]["message"]) == (400, "limit param must be an integer")
    code, body, _ = service.request("GET", service.url("/messages?sort=nope"))
    assert (code, body["badRequest"]["message"]) == (400, "Invalid input received: Invalid sort key nope")
    missing = "7a1d1e42-5b8f-4a4e-9c55-2f7f0d6b7a11"
    code, body, _ = service.request("DELETE", service.url(f"/messages/{missing}"))
    assert code == 404
    assert body["itemNotFound"]["message"] == f"Message {missing} could not be found."
    code, body, _ = service.request("GET", service.url("/messages"), version="volume 3.3")
    assert (code, body) == (200, {"messages": []})
