"""Operations that change a volume race by one compare-and-swap: of two concurrent extends,
retypes, or one of each fired at one volume, at most one wins (202) and the other is refused
(400), and the project's quota usage, per type too, always equals what exists."""
import concurrent.futures

import pytest

from conftest import PROJECT, start_service, stop_service

ROUNDS = 16


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    proc, s = start_service(tmp_path_factory.mktemp("races"))
    for name in ("gold", "silver"):
        code, body, _ = s.request("POST", s.url("/types"), {"volume_type": {"name": name}})
        assert code == 200, body
    yield s
    stop_service(proc)


def usage(svc):
    code, body, _ = svc.request("GET", svc.url(f"/os-quota-sets/{PROJECT}?usage=True"))
    assert code == 200, body
    q = body["quota_set"]
    return {k: (v["in_use"], v["reserved"]) for k, v in q.items() if isinstance(v, dict)}


def settle(svc, vol_id):
    return svc.wait_status(vol_id, ["available", "error", "error_extending"], timeout=30)


def expected_usage(svc):
    code, body, _ = svc.request("GET", svc.url("/volumes/detail?limit=1000"))
    want = {"volumes": 0, "gigabytes": 0, "volumes_gold": 0, "gigabytes_gold": 0,
            "volumes_silver": 0, "gigabytes_silver": 0}
    for v in body["volumes"]:
        want["volumes"] += 1
        want["gigabytes"] += v["size"]
        if v["volume_type"] in ("gold", "silver"):
            want["volumes_" + v["volume_type"]] += 1
            want["gigabytes_" + v["volume_type"]] += v["size"]
    return want


@pytest.mark.parametrize("pair", [("extend", "extend"), ("extend", "retype"), ("retype", "retype")])
def test_one_of_two_concurrent_changes_wins_and_usage_stays_exact(svc, pair):
    def action(kind, vol_id, i):
        if kind == "extend":
            body = {"os-extend": {"new_size": 2 + i}}
        else:
            body = {"os-retype": {"new_type": "silver", "migration_policy": "never"}}
        return svc.request("POST", svc.url(f"/volumes/{vol_id}/action"), body)[0]

    for _ in range(ROUNDS):
        code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1, "volume_type": "gold"}})
        assert code == 202, body
        vol_id = body["volume"]["id"]
        settle(svc, vol_id)
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            codes = list(ex.map(lambda i: action(pair[i], vol_id, i), (0, 1)))
        # One wins; the other loses, or wins after it when it still makes sense (an extend to a
        # larger size), never from what the first one changed.
        assert sorted(codes) in ([202, 400], [202, 202]), codes
        if pair == ("retype", "retype"):
            assert codes.count(202) == 1, codes  # the second would retype to the type it has
        assert settle(svc, vol_id) == "available"
        want = expected_usage(svc)
        got = usage(svc)
        for k, n in want.items():
            assert got[k] == (n, 0), (k, got[k], n, codes)
        assert svc.request("DELETE", svc.url(f"/volumes/{vol_id}"))[0] == 202
        svc.wait_status(vol_id, ["deleted"])
    # Everything deleted: nothing used, nothing reserved.
    assert all(u == (0, 0) for k, u in usage(svc).items() if k in expected_usage(svc)), usage(svc)
