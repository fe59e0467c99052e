"""Claims that hold across schedulers: two cinder-scheduler processes place 4N concurrent creates
on one pool with room for exactly N volumes (no over-subscription). Exactly N become available,
the rest error with the no-valid-backend message, and the pool is never over-committed."""
import concurrent.futures
import os

import pytest

from conftest import table_rows
from test_distributed import Cluster

N = 8  # GiB of room, volumes of 1 GiB


@pytest.fixture(scope="module")
def race(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("race")))
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("s2", "cinder-scheduler", "sched2")
        c.start("v1", "cinder-volume", "vol1", "small",
                f"file_capacity_gb = {N}\nmax_over_subscription_ratio = 1.0\n")
        c.start("api", "cinder-api", "apihost")
        yield c
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()


def test_two_schedulers_never_overcommit_a_pool(race):
    # Both schedulers know the pool before the burst.
    race.wait(lambda: len(race.request("GET", "/scheduler-stats/get_pools")[1]["pools"]) == 1, 10, "the pool")

    def post(_):
        code, body = race.request("POST", "/volumes", {"volume": {"size": 1}})
        assert code == 202, body
        return body["volume"]["id"]

    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        ids = list(ex.map(post, range(4 * N)))
    race.wait(lambda: all(race.volume(i)["status"] in ("available", "error") for i in ids), 60, "every create to end")
    states = {i: race.volume(i)["status"] for i in ids}
    available = [i for i, s in states.items() if s == "available"]
    failed = [i for i, s in states.items() if s == "error"]
    assert len(available) == N, states
    assert len(failed) == 3 * N
    # Both schedulers took part.
    logs = [open(os.path.join(race.tmp, f"{s}.log")).read() for s in ("s1", "s2")]
    assert all("no valid backend" in log for log in logs), logs
    # Every failure says why, as Cinder does.
    for vol_id in failed[:3]:
        rows = table_rows(race.cinder("message-list", "--filters", f"resource_uuid={vol_id}").stdout)
        assert [r["User Message"] for r in rows] == [
            "schedule allocate volume:Could not find any available weighted backend."]
    # The pool holds exactly what it has room for, in the database and on disk.
    code, body = race.request("GET", "/volumes/detail?limit=1000")
    placed = [v for v in body["volumes"] if v["os-vol-host-attr:host"]]
    assert sum(v["size"] for v in placed) == N
    files = os.listdir(os.path.join(race.tmp, "v1", "volumes", "small"))
    assert len(files) == N


def test_concurrent_creates_never_pass_a_quota(race):
    """50 concurrent creates against a quota of 10 volumes, through cinder-api on PostgreSQL:
    exactly 10 are accepted, the others get Cinder's 413, and usage equals what exists."""
    from conftest import PROJECT
    # The pool race above left volumes (error ones count too, as in Cinder): start from none.
    code, body = race.request("GET", "/volumes?limit=1000")
    for v in body["volumes"]:
        race.request("DELETE", f"/volumes/{v['id']}")
    race.wait(lambda: race.request("GET", "/volumes")[1]["volumes"] == [], 60, "the earlier volumes to go")
    code, body = race.request("PUT", f"/os-quota-sets/{PROJECT}", {"quota_set": {"volumes": 10}})
    assert code == 200, body

    def post(_):
        return race.request("POST", "/volumes", {"volume": {"size": 1}})

    with concurrent.futures.ThreadPoolExecutor(25) as ex:
        results = list(ex.map(post, range(50)))
    accepted = [b["volume"]["id"] for c, b in results if c == 202]
    refused = [b for c, b in results if c == 413]
    assert len(accepted) == 10 and len(refused) == 40, [c for c, _ in results]
    assert refused[0]["overLimit"]["message"] == "Maximum number of volumes allowed (10) exceeded for quota 'volumes'."
    race.wait(lambda: all(race.volume(i)["status"] in ("available", "error") for i in accepted), 60, "the creates")
    code, body = race.request("GET", f"/os-quota-sets/{PROJECT}?usage=True")
    usage = body["quota_set"]
    assert (usage["volumes"]["in_use"], usage["volumes"]["reserved"]) == (10, 0), usage
    assert (usage["gigabytes"]["in_use"], usage["gigabytes"]["reserved"]) == (10, 0), usage
    code, body = race.request("GET", "/volumes?limit=1000")
    assert len(body["volumes"]) == 10
    # Deleting gives it all back.
    for i in accepted:
        race.request("DELETE", f"/volumes/{i}")
    race.wait(lambda: race.request("GET", "/volumes")[1]["volumes"] == [], 60, "the volumes to go")
    code, body = race.request("GET", f"/os-quota-sets/{PROJECT}?usage=True")
    assert body["quota_set"]["volumes"]["in_use"] == 0 and body["quota_set"]["gigabytes"]["in_use"] == 0, body
