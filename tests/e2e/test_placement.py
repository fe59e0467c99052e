"""Placement through the stock client: three backends in two availability zones with differing
capabilities; volume types with extra specs, zones, scheduler hints and capacity decide where
each volume lands, and get-pools / get-capabilities show what the schedulers see."""
import pytest

from conftest import start_service, stop_service, table_rows

BACKENDS = {
    # az1: two file backends told apart by their extra capabilities.
    "gold": 'volume_driver = file\nextra_capabilities = {"tier": "gold", "ssd": true}\n',
    "silver": 'volume_driver = file\nextra_capabilities = {"tier": "silver", "ssd": false}\n',
    # az2: a small one that cannot over-subscribe: room for exactly 5 GiB.
    "bronze": ('volume_driver = file\nbackend_availability_zone = az2\nfile_capacity_gb = 5\n'
               'max_over_subscription_ratio = 1.0\nreserved_percentage = 0\n'
               'extra_capabilities = {"tier": "bronze"}\n'),
}


@pytest.fixture(scope="module")
def placed(tmp_path_factory):
    # The affinity and JSON filters are not among Cinder's defaults: an operator enables them.
    extra = ("storage_availability_zone = az1\nquota_volumes = -1\n"
             "scheduler_default_filters = AvailabilityZoneFilter, CapacityFilter, CapabilitiesFilter, "
             "SameBackendFilter, DifferentBackendFilter, JsonFilter\n")
    proc, svc = start_service(tmp_path_factory.mktemp("placement"), extra=extra, backends=BACKENDS)
    yield svc
    stop_service(proc)


def create(svc, *args, expect="available"):
    vol = svc.cinder_table("create", *args)
    status = svc.wait_status(vol["id"], {"available", "error"})
    assert status == expect, (args, status)
    code, body, _ = svc.request("GET", svc.url(f"/volumes/{vol['id']}"))
    return vol["id"], body["volume"]["os-vol-host-attr:host"], body["volume"]["availability_zone"]


def host_of(svc, vol_id):
    return svc.request("GET", svc.url(f"/volumes/{vol_id}"))[1]["volume"]["os-vol-host-attr:host"]


def test_pools_and_capabilities_as_the_schedulers_see_them(placed):
    out = placed.cinder("get-pools").stdout
    names = sorted(r["Value"] for r in table_rows(out) if r.get("Property") == "name")
    host = names[0].split("@")[0]
    assert names == [f"{host}@bronze#bronze", f"{host}@gold#gold", f"{host}@silver#silver"]
    code, body, _ = placed.request("GET", placed.url("/scheduler-stats/get_pools?detail=true"))
    assert code == 200
    caps = {p["name"]: p["capabilities"] for p in body["pools"]}
    gold = caps[f"{host}@gold#gold"]
    assert gold["tier"] == "gold" and gold["ssd"] is True
    assert gold["thin_provisioning_support"] is True and gold["thick_provisioning_support"] is False
    # As Cinder's LVM: the protocol of the target helper (tgtadm by default), "Open Source".
    assert gold["volume_backend_name"] == "gold" and gold["storage_protocol"] == "iSCSI"
    assert gold["vendor_name"] == "Open Source"
    assert gold["max_over_subscription_ratio"] == "20.0"
    assert isinstance(gold["total_capacity_gb"], (int, float)) and gold["total_capacity_gb"] > 0
    bronze = caps[f"{host}@bronze#bronze"]
    assert bronze["total_capacity_gb"] == 5.0 and bronze["max_over_subscription_ratio"] == "1.0"
    # The client's detail view and the name filter (3.28+).
    detail = placed.cinder("get-pools", "--detail", "--filters", f"name={host}@gold#gold").stdout
    assert "tier" in detail and "gold" in detail and "silver" not in detail
    shown = placed.cinder("get-capabilities", f"{host}@bronze").stdout
    assert f"OS::Storage::Capabilities::{host}@bronze" in shown and "Thin Provisioning" in shown
    res = placed.cinder("get-capabilities", "nohost@none", check=False)
    assert res.returncode != 0 and "Can't find service: nohost@none" in res.stderr
    code, body, _ = placed.request("GET", placed.url("/scheduler-stats/get_pools?bogus=1"))
    assert (code, body["badRequest"]["message"]) == (
        400, "Invalid filters bogus are found in query options. Supported filters: name, volume_type.")


def test_types_zones_and_hints_decide_the_pool(placed):
    host = table_rows(placed.cinder("get-pools").stdout)[0]["Value"].split("@")[0]
    placed.cinder("type-create", "fast")
    placed.cinder("type-key", "fast", "set", "tier=gold", "capabilities:ssd=<is> True")
    placed.cinder("type-create", "cheap")
    placed.cinder("type-key", "cheap", "set", "volume_backend_name=bronze")
    placed.cinder("type-create", "nowhere")
    placed.cinder("type-key", "nowhere", "set", "tier=platinum")

    _, h, az = create(placed, "--volume-type", "fast", "1")
    assert (h, az) == (f"{host}@gold#gold", "az1")
    # A type's pool outside the requested zone: no valid backend.
    _, h, _ = create(placed, "--volume-type", "cheap", "1", expect="error")
    _, h, az = create(placed, "--volume-type", "cheap", "--availability-zone", "az2", "1")
    assert (h, az) == (f"{host}@bronze#bronze", "az2")
    bad, _, _ = create(placed, "--volume-type", "nowhere", "1", expect="error")
    msgs = table_rows(placed.cinder("message-list", "--filters", f"resource_uuid={bad}").stdout)
    assert [m["User Message"] for m in msgs] == [
        "schedule allocate volume:Could not find any available weighted backend."]
    # get-pools filtered by a type shows the pools its extra specs accept (3.35).
    code, body, _ = placed.request("GET", placed.url("/scheduler-stats/get_pools?volume_type=fast"))
    assert [p["name"] for p in body["pools"]] == [f"{host}@gold#gold"]

    # Hints: next to a volume, or away from it.
    silver_vol, h, _ = create(placed, "--hint", f"different_host={placed_on(placed, host, 'gold')}", "1")
    assert h == f"{host}@silver#silver"
    _, h, _ = create(placed, "--hint", f"same_host={silver_vol}", "1")
    assert h == f"{host}@silver#silver"
    _, h, _ = create(placed, "--hint", "same_host=not-a-uuid", "1", expect="error")
    _, h, _ = create(placed, "--hint", 'query=["=", "$capabilities.tier", "gold"]', "1")
    assert h == f"{host}@gold#gold"


def placed_on(svc, host, backend):
    code, body, _ = svc.request("GET", svc.url("/volumes/detail"))
    return next(v["id"] for v in body["volumes"] if v["os-vol-host-attr:host"] == f"{host}@{backend}#{backend}")


def test_capacity_without_over_subscription_is_never_exceeded(placed):
    # bronze holds 5 GiB and cannot over-subscribe; 1 GiB is used by the previous test.
    ids = [placed.cinder_table("create", "--availability-zone", "az2", "2")["id"] for _ in range(3)]
    states = sorted(placed.wait_status(i, {"available", "error"}) for i in ids)
    assert states == ["available", "available", "error"]
    code, body, _ = placed.request("GET", placed.url("/volumes/detail?availability_zone=az2&status=available"))
    assert sum(v["size"] for v in body["volumes"]) <= 5


def test_availability_zones_and_the_summary(placed):
    zones = {r["Name"]: r["Status"] for r in table_rows(placed.cinder("availability-zone-list").stdout)}
    assert zones == {"az1": "available", "az2": "available"}
    code, body, _ = placed.request("GET", placed.url("/volumes/detail"))
    live = body["volumes"]
    summary = placed.cinder_table("summary")
    assert int(summary["total_count"]) == len(live)
    assert int(summary["total_size"]) == sum(v["size"] for v in live)
    placed.cinder("metadata", live[0]["id"], "set", "team=storage")
    placed.cinder("metadata", live[1]["id"], "set", "team=db")
    code, body, _ = placed.request("GET", placed.url("/volumes/summary"))
    assert body["volume-summary"]["metadata"] == {"team": ["db", "storage"]}
    code, body, _ = placed.request("GET", placed.url("/volumes/summary"), version="volume 3.12")
    assert "metadata" not in body["volume-summary"]
    code, body, _ = placed.request("GET", placed.url("/volumes/summary"), version="volume 3.11")
    assert (code, body["itemNotFound"]["message"]) == (404, "Volume summary could not be found.")
