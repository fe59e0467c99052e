"""Listing as Python iterables: filters, paging, and 10,000 volumes."""
import threading
import time

import pytest

import cinder


def test_filters_and_sort(svc):
    for name, status_meta in (("alpha", "a"), ("beta", "b"), ("gamma", "a")):
        svc.create_volume(1, name=name, metadata={"group": status_meta}).wait()
    assert [v.name for v in svc.volumes()] == ["gamma", "beta", "alpha"]  # created_at desc
    assert [v.name for v in svc.volumes(sort="name:asc")] == ["alpha", "beta", "gamma"]
    assert [v.name for v in svc.volumes(name="beta")] == ["beta"]
    assert sorted(v.name for v in svc.volumes(metadata={"group": "a"})) == ["alpha", "gamma"]
    assert [v.name for v in svc.volumes(like={"name": "amm"})] == ["gamma"]
    assert [v.name for v in svc.volumes(status="available", sort="name:desc", limit=2)] == ["gamma", "beta"]
    assert list(svc.volumes(status="error")) == []
    # Paging is invisible: pages of one give the same volumes.
    assert [v.id for v in svc.volumes(page_size=1)] == [v.id for v in svc.volumes()]
    it = svc.volumes()
    assert iter(it) is it
    snap = next(iter(svc.volumes(name="alpha"))).create_snapshot(name="s").wait()
    assert [s.id for s in svc.snapshots()] == [snap.id]
    assert [s.id for s in svc.snapshots(volume_id=snap.volume_id, status="available")] == [snap.id]
    assert list(svc.snapshots(name="other")) == []


def test_ten_thousand_volumes(tmp_path):
    """10,000 volumes created through the API (four threads, the GIL released in each create),
    then listed into Python objects. (10,000 GiB of sparse files: thin provisioning's ratio is
    raised so that the scheduler takes them on a small file system.)"""
    n = 10000
    with cinder.open(state_path=str(tmp_path), quota_volumes=-1, quota_gigabytes=-1,
                     osapi_max_pending_creates=0, max_over_subscription_ratio=100000) as svc:
        errors = []

        def create(k):
            try:
                for i in range(k, n, 4):
                    svc.create_volume(1, name=f"v{i:05d}")
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        started = time.perf_counter()
        threads = [threading.Thread(target=create, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        svc.drain()
        created = time.perf_counter() - started
        assert not errors, errors[:3]

        started = time.perf_counter()
        volumes = list(svc.volumes())
        listed = time.perf_counter() - started
        assert len(volumes) == n
        assert len({v.id for v in volumes}) == n
        statuses = {}
        for v in volumes:
            statuses[v.status] = statuses.get(v.status, 0) + 1
        assert statuses == {"available": n}, (statuses, svc.messages()[:1])
        assert sorted(v.name for v in volumes) == [f"v{i:05d}" for i in range(n)]
        assert [v.name for v in svc.volumes(name="v01234")] == ["v01234"]
        assert svc.quotas()["volumes"].in_use == n
        print(f"created {n} in {created:.1f} s, listed them in {listed * 1000:.0f} ms")
        assert listed < 2.0  # bench/python_embedded.py measures it (target 50 ms)


def test_paging_and_limits(svc):
    for i in range(6):
        svc.create_volume(1, name=str(i)).wait()
    newest_first = [str(i) for i in range(5, -1, -1)]
    for page_size in (1, 2, 3, 5, 6, 7, 1000):
        for limit in (None, 0, 1, 2, 5, 6, 7):
            got = [v.name for v in svc.volumes(page_size=page_size, limit=limit)]
            assert got == newest_first[:limit], (page_size, limit)
    with pytest.raises(cinder.InvalidInput, match="limit"):
        svc.volumes(limit=-1)
    with pytest.raises(cinder.InvalidInput, match="page_size"):
        svc.volumes(page_size=0)


def test_delete_while_iterating(svc):
    """The next page is read before a page's last volume is handed out: deleting each volume as
    it comes never deletes the marker of the next read."""
    for i in range(7):
        svc.create_volume(1, name=str(i)).wait()
    seen = []
    for vol in svc.volumes(page_size=2):
        seen.append(vol.name)
        vol.delete().wait()
    assert seen == [str(i) for i in range(6, -1, -1)]
    assert list(svc.volumes()) == []
