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
