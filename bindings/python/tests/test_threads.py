"""Blocking calls release the GIL: two threads' waits overlap, and Python runs meanwhile."""
import threading
import time

import cinder


def test_blocking_waits_overlap(svc):
    # Two volumes left "extending" (an admin's reset): wait() blocks in C++ until its timeout.
    stuck = [svc.create_volume(1).wait().reset_status("extending") for _ in range(2)]
    hold = 0.5
    spans = {}

    def wait(vol):
        start = time.perf_counter()
        try:
            vol.wait(timeout=hold)
        except cinder.Timeout:
            pass
        spans[vol.id] = (start, time.perf_counter())

    threads = [threading.Thread(target=wait, args=(v,)) for v in stuck]
    began = time.perf_counter()
    for t in threads:
        t.start()
    # Meanwhile this thread runs Python: it could not while a wait held the GIL.
    ticks = 0
    while any(t.is_alive() for t in threads):
        ticks += 1
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began

    (a_start, a_end), (b_start, b_end) = spans.values()
    assert a_end - a_start >= hold and b_end - b_start >= hold
    # The two waits ran at the same time: each began before the other ended ...
    assert a_start < b_end and b_start < a_end
    overlap = min(a_end, b_end) - max(a_start, b_start)
    assert overlap > hold * 0.8, spans
    # ... so both took about one wait's time, not two.
    assert elapsed < 2 * hold * 0.9, elapsed
    assert ticks > 1000


def test_parallel_work_from_threads(svc):
    """Several threads creating, waiting on and deleting volumes at once."""
    svc.set_quotas(volumes=-1, gigabytes=-1)
    errors = []

    def churn(k):
        try:
            for i in range(10):
                vol = svc.create_volume(1, name=f"t{k}-{i}").wait(timeout=30)
                vol.extend(2).wait(timeout=30)
                vol.delete().wait(timeout=30)
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=churn, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert list(svc.volumes()) == []


def test_one_object_from_many_threads(svc):
    """Threads sharing one Volume and one VolumeFile: each call sees a consistent object, and a
    close while others read ends their reads with an error, not a crash."""
    vol = svc.create_volume(1).wait()
    errors = []

    def extend_and_wait(k):
        try:
            for _ in range(20):
                vol.wait(timeout=30)
                assert vol.status == "available" and vol.size >= 1
        except Exception as e:
            errors.append(e)

    vol.extend(2)
    threads = [threading.Thread(target=extend_and_wait, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and vol.size == 2

    f = vol.attach()
    outcomes = []

    def read():
        try:
            for _ in range(2000):
                f.seek(0)
                f.read(4096)
            outcomes.append("done")
        except (ValueError, cinder.InvalidState):  # closed under it
            outcomes.append("closed")

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    f.close()
    for t in readers:
        t.join()
    assert len(outcomes) == 3 and set(outcomes) <= {"done", "closed"}
    assert vol.refresh().status == "available"


def test_wait_is_interruptible(svc):
    """Ctrl-C (SIGINT) ends a wait with KeyboardInterrupt: it returns to Python every 100 ms."""
    import _thread

    vol = svc.create_volume(1).wait().reset_status("extending")
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    started = time.perf_counter()
    try:
        vol.wait()  # no timeout: would wait forever
        raise AssertionError("wait returned")
    except KeyboardInterrupt:
        pass
    assert 0.3 <= time.perf_counter() - started < 2
    assert vol.status == "extending"
