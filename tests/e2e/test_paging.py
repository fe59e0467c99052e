"""Paging with a small osapi_max_limit: the stock client follows volumes_links to the end."""
import pytest

from conftest import start_service, stop_service


@pytest.fixture(scope="module")
def small_pages(tmp_path_factory):
    proc, svc = start_service(tmp_path_factory.mktemp("paging"), extra="osapi_max_limit = 2\n")
    yield svc
    stop_service(proc)


def test_the_client_lists_every_volume_across_pages(small_pages):
    svc = small_pages
    ids = [svc.cinder_table("create", "--name", f"p{i}", "1")["id"] for i in range(5)]
    for vol_id in ids:
        svc.wait_status(vol_id, ["available"])
    code, body, _ = svc.request("GET", svc.url("/volumes?limit=100"))
    assert code == 200 and len(body["volumes"]) == 2  # capped by osapi_max_limit
    assert body["volumes_links"][0]["rel"] == "next"
    listing = svc.cinder("list").stdout  # three requests, following the next links
    assert all(vol_id in listing for vol_id in ids)
    assert sum(line.count("available") for line in listing.splitlines()) == 5
