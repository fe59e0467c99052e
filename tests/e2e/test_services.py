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
