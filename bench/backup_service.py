#!/usr/bin/env python3
"""The backup service's resident memory and rate on a large volume, through the REST API.

Starts cinder-all (API, volume and backup services in one process) on a temporary state folder,
creates a volume of --size-gib GiB, fills it with half-compressible data (4 bits a byte), then
times a backup and a restore to a new volume, sampling the process's resident memory every
50 ms (VmRSS) and reading its peak (VmHWM) before and after.

Usage: bench/backup_service.py [--bin build/bin] [--size-gib 10] [--dir /var/tmp]
"""
import argparse
import os
import random
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import conftest  # noqa: E402

MiB = 1 << 20


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait(svc, path, key, statuses, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        code, body, _ = svc.request("GET", svc.url(path))
        if code == 200 and body[key]["status"] in statuses:
            return body[key]
        time.sleep(0.05)
    raise SystemExit(f"{path} did not reach {statuses}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    ap.add_argument("--size-gib", type=int, default=10)
    ap.add_argument("--dir", default="/var/tmp")
    args = ap.parse_args()
    conftest.BIN = os.path.abspath(args.bin)
    state = tempfile.mkdtemp(prefix="bench-backup-", dir=args.dir)
    proc, svc = conftest.start_service(state, extra="quota_gigabytes = -1\nquota_backup_gigabytes = -1\n")
    try:
        pid = proc.pid
        code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": args.size_gib}})
        vol = body["volume"]["id"]
        wait(svc, f"/volumes/{vol}", "volume", ["available"])
        rng = random.Random(1)
        pattern = bytes(rng.getrandbits(4) for _ in range(4 * MiB))
        path = os.path.join(svc.volume_dir, f"volume-{vol}")
        with open(path, "r+b") as f:
            for i in range(args.size_gib * 256):
                f.write(pattern[i % 7:] + pattern[:i % 7])  # no two units alike
            f.flush()
            os.fsync(f.fileno())
        rss_idle = status_kib(pid, "VmRSS")
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], status_kib(pid, "VmRSS"))
                time.sleep(0.05)

        t = threading.Thread(target=sample)
        t.start()
        start = time.time()
        code, body, _ = svc.request("POST", svc.url("/backups"), {"backup": {"volume_id": vol}})
        bid = body["backup"]["id"]
        b = wait(svc, f"/backups/{bid}", "backup", ["available", "error"])
        backup_s = time.time() - start
        backup_peak = peak[0]
        start = time.time()
        code, body, _ = svc.request("POST", svc.url(f"/backups/{bid}/restore"), {"restore": {"name": "r"}})
        restored = body["restore"]["volume_id"]
        r = wait(svc, f"/volumes/{restored}", "volume", ["available", "error", "error_restoring"])
        restore_s = time.time() - start
        done.set()
        t.join()
        gb = args.size_gib * (1 << 30) / 1e6
        print(f"cinder-all, {args.size_gib} GiB half-compressible volume (zstd, {os.cpu_count()} cores):")
        print(f"  backup  {b['status']:9s} {backup_s:6.1f} s  {gb / backup_s:6.0f} MB/s  ({b['object_count']} objects)")
        print(f"  restore {r['status']:9s} {restore_s:6.1f} s  {gb / restore_s:6.0f} MB/s")
        print(f"  resident memory (VmRSS sampled every 50 ms): idle {rss_idle / 1024:.1f} MiB, peak during the "
              f"backup {backup_peak / 1024:.1f} MiB, during the restore {peak[0] / 1024:.1f} MiB "
              f"(VmHWM {status_kib(pid, 'VmHWM') / 1024:.1f} MiB)")
    finally:
        conftest.stop_service(proc)
        os.system(f"rm -rf {state}")


if __name__ == "__main__":
    main()
