"""Services through the stock client: service-list, service-disable, service-enable."""
import pytest

from conftest import start_service, stop_service


@pytest.fixture(scope="module")
def service_host(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("services")
    # One [file] backend on a host named e2ehost.
    proc, svc = start_service(tmp, extra="host = e2ehost\nreport_interval = 1\n")
    yield svc
    stop_service(proc)


def rows(out):
    return [[c.strip() for c in line.strip("|").split("|")] for line in out.splitlines()
            if line.startswith("|") and "Binary" not in line and "Host" not in line[:8]]


def test_service_list_shows_every_service_up(service_host):
    out = service_host.cinder("service-list").stdout
    table = {(r[0], r[1]): r for r in rows(out)}
    assert ("cinder-scheduler", "e2ehost") in table
    assert ("cinder-volume", "e2ehost@file") in table
    for r in table.values():
        assert r[3] == "enabled" and r[4] == "up", out


def test_a_disabled_backend_gets_no_new_volumes(service_host):
    svc = service_host
    out = svc.cinder("service-disable", "e2ehost@file", "cinder-volume", "--reason", "new disks").stdout
    assert "disabled" in out and "new disks" in out
    listed = svc.cinder("service-list", "--host", "e2ehost@file").stdout
    assert "disabled" in listed and "new disks" in listed
    # Accepted, then no valid backend: error, and the user message says so.
    code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1}})
    assert code == 202
    refused = body["volume"]["id"]
    assert svc.wait_status(refused, ["error", "available"]) == "error"
    out = svc.cinder("message-list", "--filters", f"resource_uuid={refused}").stdout
    assert "schedule allocate volume:Could not find any available weighted backend." in out
    svc.cinder("service-enable", "e2ehost@file", "cinder-volume")
    code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1}})
    assert code == 202
    svc.wait_status(body["volume"]["id"], ["available"])
    res = svc.cinder("service-disable", "nohost", "cinder-volume", check=False)
    assert res.returncode != 0
    assert "Service cinder-volume could not be found on host nohost." in res.stderr
    code, body, _ = svc.request("PUT", svc.url("/os-services/disable"), {"binary": "cinder-volume"})
    assert code == 400 and body["badRequest"]["message"] == "Invalid input received: Host field is missing."


def test_a_frozen_backend_refuses_changes_until_thawed(service_host):
    """os-services/freeze and thaw (cinder freeze-host / thaw-host): a frozen backend is
    disabled with reason "frozen", gets no new volumes, and refuses deletes and snapshots of its
    volumes with Cinder's message; thawing gives it all back."""
    svc = service_host
    code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1, "name": "kept"}})
    assert code == 202
    vol = body["volume"]["id"]
    svc.wait_status(vol, ["available"])

    svc.cinder("freeze-host", "e2ehost")  # the host stands for its backends
    _, listed, _ = svc.request("GET", svc.url("/os-services?binary=cinder-volume"), version="volume 3.30")
    [backend] = listed["services"]
    assert backend["frozen"] is True and backend["status"] == "disabled" and backend["disabled_reason"] == "frozen"

    frozen = "Invalid input received: Modification operations are not allowed on frozen storage backends."
    res = svc.cinder("delete", vol, check=False)
    assert res.returncode != 0 and frozen in res.stdout + res.stderr
    code, body, _ = svc.request("POST", svc.url("/snapshots"), {"snapshot": {"volume_id": vol}})
    assert code == 400 and body["badRequest"]["message"] == frozen
    code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1}})
    assert code == 202 and svc.wait_status(body["volume"]["id"], ["error", "available"]) == "error"
    assert svc.request("GET", svc.url(f"/volumes/{vol}"))[1]["volume"]["status"] == "available"

    # Frozen twice, an unknown host, no host: Cinder's 400s, nothing changed.
    code, body, _ = svc.request("PUT", svc.url("/os-services/freeze"), {"host": "e2ehost"})
    assert code == 400 and body["badRequest"]["message"] == (
        "Invalid input received: No service could be changed: frozen in ['e2ehost@file'] must be False to failover.")
    code, body, _ = svc.request("PUT", svc.url("/os-services/thaw"), {"host": "nohost"})
    assert code == 400 and body["badRequest"]["message"] == "Invalid input received: No service found with host=nohost"
    code, body, _ = svc.request("PUT", svc.url("/os-services/freeze"), {}, version="volume 3.25")
    assert code == 400 and body["badRequest"]["message"] == "Invalid input received: Host field is missing."
    code, body, _ = svc.request("PUT", svc.url("/os-services/freeze"), {}, version="volume 3.26")
    assert code == 400 and body["badRequest"]["message"] == (
        "Invalid input received: One and only one of cluster and host must be set.")
    code, body, _ = svc.request("PUT", svc.url("/os-services/freeze"), {"host": "e2ehost", "x": 1})
    assert code == 400 and "('x' was unexpected)" in body["badRequest"]["message"]

    svc.cinder("thaw-host", "e2ehost")
    _, listed, _ = svc.request("GET", svc.url("/os-services?binary=cinder-volume"), version="volume 3.30")
    [backend] = listed["services"]
    assert backend["frozen"] is False and backend["status"] == "enabled"
    code, body, _ = svc.request("POST", svc.url("/snapshots"), {"snapshot": {"volume_id": vol}})
    assert code == 202
    snap = body["snapshot"]["id"]
    svc.wait_snapshot(snap, ["available"])
    assert svc.request("DELETE", svc.url(f"/snapshots/{snap}"))[0] == 202
    svc.wait_status(snap, ["deleted"], kind="snapshot")
    svc.cinder("delete", vol)
    svc.wait_status(vol, ["deleted"])
