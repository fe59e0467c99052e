#!/usr/bin/env python3
"""The API's HTTP front end, two builds side by side (before and after a change).

Starts cinder-all from each build on its own state folder with 100 volumes, then 1000, and
alternates the builds run by run (the machine is shared and noisy), printing the median of the
rounds for each, with the server's CPU time per request (user + system, /proc/PID/stat), which
the noise of other processes disturbs less than the rate does:

  GET /v3/{p}/volumes/detail, 100 and 1000 volumes, at 1, 8, 64 and 256 connections (wrk)
  GET / at 64 connections (wrk)
  the same loads counted per connection (bench_conns): responses per connection, min / median /
  max, and how many got none -- wrk's totals hide a server that answers a few connections only
  1000 connections on GET / (bench_conns): errors and starved connections

Usage: bench/http_frontend.py --before DIR --after DIR [--rounds 5] [--duration 5] [--fair-duration 10]
       [--root-conns 64] [--only REGEX] [--conns-bin build/bin]
(each DIR holds cinder-all and cinder-manage).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import HEADERS, PROJECT, Api, free_port, rss_kib  # noqa: E402


class Server:
    def __init__(self, name, bindir):
        self.name = name
        self.state = tempfile.mkdtemp(prefix=f"cinder-http-{name}-")
        self.port = free_port()
        conf = os.path.join(self.state, "cinder.conf")
        with open(conf, "w") as f:
            f.write(f"[DEFAULT]\nosapi_volume_listen = 127.0.0.1\nosapi_volume_listen_port = {self.port}\n"
                    f"state_path = {self.state}\nosapi_max_limit = 1000\n"
                    f"quota_volumes = -1\nquota_gigabytes = -1\nquota_snapshots = -1\n")
        subprocess.run([os.path.join(bindir, "cinder-manage"), "--config-file", conf, "db", "sync"], check=True)
        self.proc = subprocess.Popen([os.path.join(bindir, "cinder-all"), "--config-file", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                self.api = Api(self.port)
                self.api.call("GET", f"/v3/{PROJECT}/volumes")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        self.count = 0

    def fill(self, target):
        self.api = Api(self.port)  # a fresh connection: the last one may have idled out
        while self.count < target:
            status, _ = self.api.call("POST", f"/v3/{PROJECT}/volumes", {"volume": {"size": 1}})
            assert status == 202
            self.count += 1
        while True:  # every create finished
            _, body = self.api.call("GET", f"/v3/{PROJECT}/volumes/detail?limit=1000&status=creating")
            if not body["volumes"]:
                break
            time.sleep(0.1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.state, ignore_errors=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(server, path, conns, duration):
    """(requests/s, errors, the server's CPU microseconds per request)."""
    port = server.port
    # A generous timeout: a fair server's latency at 256 connections on 1000 volumes is
    # 256 / rate, near wrk's default of 2 s; a request still counts only once it is answered.
    cmd = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{duration}s", "--timeout", "30s"]
    for k, v in HEADERS.items():
        cmd += ["-H", f"{k}: {v}"]
    cpu0 = cpu_seconds(server.proc.pid)
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    cpu = cpu_seconds(server.proc.pid) - cpu0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    return rps, errors, cpu / max(total, 1) * 1e6


def conns(binary, port, path, n, duration):
    cmd = [binary, "-c", str(n), "-t", "2", "-d", str(duration)]
    for k, v in HEADERS.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    rps = float(re.search(r"requests/s: ([\d.]+)", out).group(1))
    mn, med, mx, none = (int(g) for g in re.search(
        r"per connection: min (\d+), median (\d+), max (\d+), none (\d+)", out).groups())
    errors = sum(int(g) for g in re.search(r"errors: (\d+), non-2xx/3xx: (\d+)", out).groups())
    return rps, (mn, med, mx, none), errors


def label(load):
    size, path, c = load
    what = "GET /" if path == "/" else f"GET volumes/detail, {size} volumes"
    return f"{what:34s} {c:4d} conns"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--fair-duration", type=int, default=10,
                    help="seconds of each per-connection count (long enough for every connection "
                    "to be answered at 256 connections on 1000 volumes)")
    ap.add_argument("--root-conns", default="64", help="connection counts for GET / (e.g. 1,64)")
    ap.add_argument("--only", default="", help="a regular expression: only the loads whose label matches "
                    "(e.g. '1000 volumes.* 256 conns|GET / ')")
    ap.add_argument("--conns-bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    args = ap.parse_args()
    conns_bin = os.path.join(args.conns_bin, "bench_conns")
    servers = [Server("before", args.before), Server("after", args.after)]
    try:
        for s in servers:
            print(f"{s.name}: idle RSS {rss_kib(s.proc.pid) / 1024:.1f} MiB", flush=True)
        loads = []
        for size in (100, 1000):
            for c in (1, 8, 64, 256):
                loads.append((size, f"/v3/{PROJECT}/volumes/detail", c))
        for c in (int(x) for x in args.root_conns.split(",")):
            loads.append((1000, "/", c))
        loads = [ld for ld in loads if re.search(args.only, label(ld))]
        results = {}  # (load, server) -> [(rps, errors)]
        fairness = {}  # (load, server) -> [(rps, (min, med, max, none), errors)]
        for size in (100, 1000):
            for s in servers:
                s.fill(size)
            time.sleep(1)
            for load in [ld for ld in loads if ld[0] == size]:
                _, path, c = load
                for _ in range(args.rounds):
                    for s in servers:
                        results.setdefault((load, s.name), []).append(wrk(s, path, c, args.duration))
                        time.sleep(0.5)
                if c >= 64:
                    for s in servers:
                        fairness.setdefault((load, s.name), []).append(
                            conns(conns_bin, s.port, path, c, args.fair_duration))
                        time.sleep(0.5)
                for s in servers:
                    runs = results[(load, s.name)]
                    rps = statistics.median(r[0] for r in runs)
                    errors = sum(r[1] for r in runs)
                    cpu = statistics.median(r[2] for r in runs)
                    line = (f"{s.name:6s} {label(load):45s}: {rps:9.1f} req/s (wrk, median of "
                            f"{len(runs)}: {', '.join(f'{r[0]:.0f}' for r in runs)}), {cpu:.0f} us CPU/request, "
                            f"errors {errors}")
                    if (load, s.name) in fairness:
                        frps, (mn, med, mx, none), ferr = fairness[(load, s.name)][0]
                        line += (f"; per connection min {mn} / median {med} / max {mx}, {none} of {c} got none "
                                 f"({frps:.0f} req/s, errors {ferr})")
                    print(line, flush=True)
        for s in servers if re.search(args.only, "GET / 1000 conns") else []:  # a thousand at once
            rps, (mn, med, mx, none), errors = conns(conns_bin, s.port, "/", 1000, args.fair_duration)
            print(f"{s.name:6s} GET /, 1000 connections: {rps:.0f} req/s, per connection min {mn} / median {med} / "
                  f"max {mx}, {none} got none, errors {errors}", flush=True)
        for s in servers:
            print(f"{s.name}: RSS after the load {rss_kib(s.proc.pid) / 1024:.1f} MiB", flush=True)
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
