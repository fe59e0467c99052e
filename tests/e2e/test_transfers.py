"""Volume transfers through the stock client: one project offers a volume, another accepts it
with the auth key; a wrong key and a withdrawn transfer change nothing."""
from conftest import run_cinder, table_rows

OTHER = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"


def other_cinder(service, *args, check=True):
    """The stock client as a user of another project."""
    return run_cinder(service.endpoint, *args, check=check, project=OTHER, user="other-user")


def props(out):
    return {r["Property"]: r["Value"] for r in table_rows(out) if "Property" in r}


def test_a_volume_changes_project_through_a_transfer(service):
    vol = service.cinder_table("create", "--name", "gift", "1")["id"]
    service.wait_status(vol, {"available"})
    offer = service.cinder_table("transfer-create", "--name", "for-other", vol)
    transfer_id, key = offer["id"], offer["auth_key"]
    assert len(key) == 16 and offer["volume_id"] == vol
    assert service.cinder_table("show", vol)["status"] == "awaiting-transfer"
    rows = table_rows(service.cinder("transfer-list").stdout)
    assert [(r["ID"], r["Volume ID"], r["Name"]) for r in rows] == [(transfer_id, vol, "for-other")]
    shown = service.cinder_table("transfer-show", transfer_id)
    assert shown["volume_id"] == vol and "auth_key" not in shown
    # Busy while offered: it cannot be deleted or offered twice.
    res = service.cinder("delete", vol, check=False)
    assert "Invalid volume: Volume status must be available" in res.stdout + res.stderr
    assert service.cinder_table("show", vol)["status"] == "awaiting-transfer"
    res = service.cinder("transfer-create", vol, check=False)
    assert "Invalid volume: status must be available" in res.stderr

    # A wrong key is refused and changes nothing.
    res = other_cinder(service, "transfer-accept", transfer_id, "0000000000000000", check=False)
    assert f"Invalid auth key: Attempt to transfer {transfer_id} with invalid auth key." in res.stderr
    assert service.cinder_table("show", vol)["status"] == "awaiting-transfer"

    accepted = props(other_cinder(service, "transfer-accept", transfer_id, key).stdout)
    assert accepted["id"] == transfer_id and accepted["volume_id"] == vol
    code, body, _ = service.request("GET", service.url(f"/volumes/{vol}"))
    assert code == 200  # admin view
    assert body["volume"]["os-vol-tenant-attr:tenant_id"] == OTHER
    assert body["volume"]["status"] == "available"
    listed = other_cinder(service, "list").stdout
    assert vol in listed
    # The volume's quota usage moved with it.
    usage = {r["Type"]: r["In_use"] for r in table_rows(service.cinder("quota-usage", OTHER).stdout)}
    assert (usage["volumes"], usage["gigabytes"]) == ("1", "1")
    assert table_rows(service.cinder("transfer-list").stdout) == []
    res = other_cinder(service, "transfer-accept", transfer_id, key, check=False)
    assert res.returncode != 0


def test_a_withdrawn_transfer_gives_the_volume_back(service):
    vol = service.cinder_table("create", "1")["id"]
    service.wait_status(vol, {"available"})
    offer = service.cinder_table("transfer-create", vol)
    service.cinder("transfer-delete", offer["id"])
    assert service.cinder_table("show", vol)["status"] == "available"
    res = other_cinder(service, "transfer-accept", offer["id"], offer["auth_key"], check=False)
    assert f"Transfer {offer['id']} could not be found." in res.stderr
    code, body, _ = service.request("POST", service.url("/volume-transfers"), {"transfer": {"name": "x"}})
    assert (code, body["badRequest"]["message"]) == (400, "'volume_id' is a required property")
    code, body, _ = service.request("GET", service.url("/volume-transfers"), version="volume 3.54")
    assert code == 404
    code, body, _ = service.request("GET", service.url("/os-volume-transfer"), version="volume 3.54")
    assert code == 200 and body == {"transfers": []}
