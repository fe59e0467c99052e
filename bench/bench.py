#!/usr/bin/env python3
"""libcinder benchmark: the figures issue 2 asks for, measured against cinder-all.

  start   time from exec to the first answer of GET /
  rss     idle resident memory of cinder-all (after start, and after the load)
  create  create-to-available latency (POST, then GET until available), median and p90
  list    GET /v3/{p}/volumes/detail with 100 and 1000 volumes, wrk at 1, 8, 64 and 256
          connections, and GET / at 64; at 64 and more, what each connection got (bench_conns)

Usage: bench/bench.py [--bin build/bin] [--duration 5] [--creates 200]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HEADERS = {"X-Auth-Token": f"bench:{PROJECT}", "OpenStack-API-Version": "volume 3.70",
           "Content-Type": "application/json"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=HEADERS)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def create_and_wait(api, size=1):
    t0 = time.perf_counter()
    status, body = api.call("POST", f"/v3/{PROJECT}/volumes", {"volume": {"size": size}})
    assert status == 202, (status, body)
    vid = body["volume"]["id"]
    while True:
        status, body = api.call("GET", f"/v3/{PROJECT}/volumes/{vid}")
        if body["volume"]["status"] == "available":
            return time.perf_counter() - t0, vid
        assert body["volume"]["status"] == "creating", body


def wrk(port, conns, duration, path=f"/v3/{PROJECT}/volumes/detail"):
    url = f"http://127.0.0.1:{port}{path}"
    # A generous timeout: a server that answers every connection in turn has a latency of
    # connections / rate, past wrk's default of 2 s at 256 connections on 1000 volumes.
    cmd = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{duration}s", "--latency", "--timeout", "30s"]
    for k, v in HEADERS.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert not non2xx, out
    return rps, p50


def per_connection(bindir, port, conns, duration, path=f"/v3/{PROJECT}/volumes/detail"):
    """What each connection got (bench_conns): "min / median / max, N got none"."""
    cmd = [os.path.join(bindir, "bench_conns"), "-c", str(conns), "-t", "2", "-d", str(duration)]
    for k, v in HEADERS.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"per connection: min (\d+), median (\d+), max (\d+), none (\d+)", out)
    return f"per connection {m.group(1)} / {m.group(2)} / {m.group(3)}, {m.group(4)} of {conns} got none"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--creates", type=int, default=200)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (apt-get install wrk, or scripts/install-deps.sh)")

    state = tempfile.mkdtemp(prefix="cinder-bench-")
    port = free_port()
    conf = os.path.join(state, "cinder.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nosapi_volume_listen = 127.0.0.1\nosapi_volume_listen_port = {port}\n"
                f"state_path = {state}\nosapi_max_limit = 1000\n"
                # Thousands of volumes: no quota in the way.
                f"quota_volumes = -1\nquota_gigabytes = -1\nquota_snapshots = -1\n")
    subprocess.run([os.path.join(args.bin, "cinder-manage"), "--config-file", conf, "db", "sync"], check=True)

    t0 = time.perf_counter()
    proc = subprocess.Popen([os.path.join(args.bin, "cinder-all"), "--config-file", conf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                c.request("GET", "/")
                if c.getresponse().status == 300:
                    break
            except OSError:
                time.sleep(0.001)
        start_s = time.perf_counter() - t0
        time.sleep(0.5)
        print(f"start to first answer: {start_s * 1000:.1f} ms")
        print(f"idle RSS after start: {rss_kib(proc.pid) / 1024:.1f} MiB")

        api = Api(port)
        lat = []
        for _ in range(args.creates):
            dt, _ = create_and_wait(api)
            lat.append(dt)
        lat.sort()
        print(f"create to available ({args.creates} sequential creates): median "
              f"{statistics.median(lat) * 1000:.2f} ms, p90 {lat[int(len(lat) * 0.9)] * 1000:.2f} ms")

        # Bring the project to exactly 100, then 1000 volumes, and load the detail list.
        count = len(lat)
        for target in (100, 1000):
            if count > target:  # the latency run may have made more than 100
                status, body = api.call("GET", f"/v3/{PROJECT}/volumes?limit={count - target}")
                for v in body["volumes"]:
                    api.call("DELETE", f"/v3/{PROJECT}/volumes/{v['id']}")
                while api.call("GET", f"/v3/{PROJECT}/volumes?with_count=true&limit=0")[1]["count"] > target:
                    time.sleep(0.01)
                count = target
            while count < target:
                api.call("POST", f"/v3/{PROJECT}/volumes", {"volume": {"size": 1}})
                count += 1
            time.sleep(0.5)
            for conns in (1, 8, 64, 256):
                rps, p50 = wrk(port, conns, args.duration)
                line = (f"GET volumes/detail, {target} volumes, {conns:3d} connections: "
                        f"{rps:8.1f} req/s, median latency {p50}")
                if conns >= 64 and os.path.exists(os.path.join(args.bin, "bench_conns")):
                    line += "; " + per_connection(args.bin, port, conns, max(args.duration, 10))
                print(line)
        rps, p50 = wrk(port, 64, args.duration, "/")
        line = f"GET /, 64 connections: {rps:8.1f} req/s, median latency {p50}"
        if os.path.exists(os.path.join(args.bin, "bench_conns")):
            line += "; " + per_connection(args.bin, port, 64, args.duration, "/")
        print(line)
        time.sleep(1)
        print(f"RSS after the load: {rss_kib(proc.pid) / 1024:.1f} MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
