"""The stock cinder client against cinder-all: the life of a volume."""
import os

GiB = 1024 ** 3


def test_volume_life_through_the_stock_client(service):
    created = service.cinder_table("create", "--name", "e2e-vol", "2")
    vol_id = created["id"]
    assert created["name"] == "e2e-vol"
    assert created["size"] == "2"
    assert service.wait_status(vol_id, ["available"]) == "available"

    path = os.path.join(service.volume_dir, f"volume-{vol_id}")
    st = os.stat(path)
    assert st.st_size == 2 * GiB          # apparent size: the requested size
    assert st.st_blocks * 512 < 1 << 20   # sparse: nothing allocated

    listing = service.cinder("list").stdout
    assert vol_id in listing and "e2e-vol" in listing and "available" in listing

    shown = service.cinder_table("show", "e2e-vol")  # by name
    assert shown["id"] == vol_id
    assert shown["status"] == "available"
    assert shown["volume_type"] == "__DEFAULT__"

    service.cinder("rename", "e2e-vol", "e2e-renamed")
    assert service.cinder_table("show", vol_id)["name"] == "e2e-renamed"

    service.cinder("extend", vol_id, "5")
    assert service.wait_status(vol_id, ["available"]) == "available"
    assert service.cinder_table("show", vol_id)["size"] == "5"
    assert os.stat(path).st_size == 5 * GiB

    service.cinder("metadata", vol_id, "set", "tier=gold", "owner=e2e")
    code, body, _ = service.request("GET", service.url(f"/volumes/{vol_id}/metadata"))
    assert code == 200 and body == {"metadata": {"owner": "e2e", "tier": "gold"}}
    service.cinder("metadata", vol_id, "unset", "tier")
    code, body, _ = service.request("GET", service.url(f"/volumes/{vol_id}/metadata"))
    assert body == {"metadata": {"owner": "e2e"}}
    assert "owner" in service.cinder_table("show", vol_id)["metadata"]

    out = service.cinder("delete", vol_id).stdout
    assert f"Request to delete volume {vol_id} has been accepted." in out
    assert service.wait_status(vol_id, ["deleted"]) == "deleted"
    assert not os.path.exists(path)
    assert vol_id not in service.cinder("list").stdout


def test_list_filters_and_sort_through_the_client(service):
    ids = [service.cinder_table("create", "--name", f"f{i}", "--metadata", f"n={i}", "1")["id"]
           for i in range(3)]
    for vol_id in ids:
        service.wait_status(vol_id, ["available"])
    out = service.cinder("list", "--name", "f1").stdout
    assert ids[1] in out and ids[0] not in out and ids[2] not in out
    out = service.cinder("list", "--metadata", "n=2").stdout
    assert ids[2] in out and ids[1] not in out
    out = service.cinder("list", "--sort", "name:asc").stdout
    assert out.index(ids[0]) < out.index(ids[1]) < out.index(ids[2])
    # Paging: the client follows volumes_links until the last page.
    out = service.cinder("list", "--limit", "2").stdout
    assert sum(1 for i in ids if i in out) == 2
    for vol_id in ids:
        service.cinder("delete", vol_id)
    for vol_id in ids:
        service.wait_status(vol_id, ["deleted"])


def test_client_errors_are_cinders(service):
    res = service.cinder("create", "0", check=False)
    assert res.returncode != 0
    assert "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1" in res.stderr
    assert "(HTTP 400)" in res.stderr

    vol_id = service.cinder_table("create", "--name", "small", "2")["id"]
    service.wait_status(vol_id, ["available"])
    res = service.cinder("extend", vol_id, "1", check=False)
    assert res.returncode != 0
    assert "New size for extend must be greater than current size. (current: 2, extended: 1)." in res.stderr
    res = service.cinder("show", "no-such-volume", check=False)
    assert "No volume with a name or ID of 'no-such-volume' exists." in res.stderr
    service.cinder("delete", vol_id)
    service.wait_status(vol_id, ["deleted"])
