#!/usr/bin/env python3
"""The Python module's figures (docs/python.md): an embedded service's create -> available,
listing 10,000 volumes into Python objects, and `import cinder`.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_embedded.py [--volumes 10000] [--creates 200]

Targets: create -> available median < 1 ms, listing 10,000 < 50 ms, import < 50 ms. The same
through the C++ API: build/bin/bench_embedded (bench/embedded.cc); cinderlib: bench/cinderlib_compare.py.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def import_times(runs):
    code = "import time; t = time.perf_counter(); import cinder; print(time.perf_counter() - t)"
    return [float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                 text=True).stdout) for _ in range(runs)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--volumes", type=int, default=10000, help="volumes to list (default 10000)")
    ap.add_argument("--creates", type=int, default=200, help="creates timed one by one (default 200)")
    ap.add_argument("--lists", type=int, default=7, help="listings timed (default 7)")
    ap.add_argument("--imports", type=int, default=10, help="imports timed, each in a new python (default 10)")
    args = ap.parse_args()

    imports = import_times(args.imports)
    import cinder

    with tempfile.TemporaryDirectory() as tmp, \
            cinder.open(state_path=tmp, quota_volumes=-1, quota_gigabytes=-1, osapi_max_pending_creates=0,
                        max_over_subscription_ratio=100000) as svc:
        for _ in range(20):  # warm up
            svc.create_volume(1).wait()
        creates = []
        for _ in range(args.creates):
            t = time.perf_counter()
            svc.create_volume(1).wait()
            creates.append(time.perf_counter() - t)

        have = 20 + args.creates
        todo = max(0, args.volumes - have)

        def fill(k):
            for _ in range(k, todo, 4):
                svc.create_volume(1)

        threads = [threading.Thread(target=fill, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        svc.drain()
        lists = []
        for _ in range(args.lists):
            t = time.perf_counter()
            vols = list(svc.volumes())
            lists.append(time.perf_counter() - t)
        n = len(vols)

    ms = lambda xs: statistics.median(xs) * 1000  # noqa: E731
    print(f"create -> available: median {ms(creates):.3f} ms, p90 {sorted(creates)[len(creates) * 9 // 10] * 1000:.3f} ms "
          f"({len(creates)} creates, each waited for)")
    print(f"list {n} volumes into Python objects: median {ms(lists):.1f} ms, best {min(lists) * 1000:.1f} ms "
          f"({len(lists)} runs; the first, cold: {lists[0] * 1000:.1f} ms)")
    print(f"import cinder: median {ms(imports):.1f} ms, best {min(imports) * 1000:.1f} ms "
          f"({len(imports)} runs, each in a new python)")


if __name__ == "__main__":
    main()
