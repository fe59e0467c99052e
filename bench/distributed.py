#!/usr/bin/env python3
"""libcinder distributed benchmark: cinder-api, two cinder-scheduler, two cinder-volume hosts
as separate processes on loopback with a throwaway PostgreSQL (the #3 figures).

  burst    200 creates sent at once through cinder-api (16 client threads): time until all are
           available, and the rate
  latency  create -> available, sequential, median and p90
  rss      resident memory of each daemon at idle

Usage: bench/distributed.py [--bin build/bin] [--burst 200] [--sequential 100] [--transport-security curve|none]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HEADERS = {"X-Auth-Token": f"bench:{PROJECT}", "OpenStack-API-Version": "volume 3.70",
           "Content-Type": "application/json"}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    idle = vals[3] + vals[4]
    return (sum(vals) - idle) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None):
        self.conn.request(method, f"/v3/{PROJECT}{path}", body=json.dumps(body) if body else None,
                          headers=HEADERS)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--sequential", type=int, default=100)
    ap.add_argument("--transport-security", choices=["curve", "none"], default="curve",
                    help="the daemons' transport_security (curve: a key made by cinder-manage)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cinder-dist-bench-")
    pg = os.path.join(tmp, "pg")
    subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), "start", pg], check=True,
                   capture_output=True)
    url = open(os.path.join(pg, "url")).read().strip()
    procs = {}
    key_file = os.path.join(tmp, "transport.key")
    if args.transport_security == "curve":  # the deployment's key, made as an operator makes it
        subprocess.run([os.path.join(args.bin, "cinder-manage"), "transport", "keygen", "--output", key_file],
                       check=True, capture_output=True)
    try:
        def conf(name, host, backend):
            path = os.path.join(tmp, f"{name}.conf")
            with open(path, "w") as f:
                f.write(f"[DEFAULT]\nhost = {host}\nstate_path = {tmp}/{name}\nosapi_volume_listen_port = 0\n"
                        f"transport_security = {args.transport_security}\ntransport_key_file = {key_file}\n"
                        "quota_volumes = -1\nquota_gigabytes = -1\nquota_snapshots = -1\n"
                        f"enabled_backends = {backend}\n[database]\nconnection = {url}\n"
                        f"[{backend}]\nvolume_driver = file\n")
            return path

        def start(name, binary, host, backend="b"):
            p = subprocess.Popen([os.path.join(args.bin, binary), "--config-file", conf(name, host, backend)],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            ready, _, _ = select.select([p.stdout], [], [], 15)
            line = p.stdout.readline() if ready else ""
            if "listening" not in line and "serving" not in line:
                sys.exit(f"{binary} did not start: {line}")
            procs[name] = p
            return line

        subprocess.run([os.path.join(args.bin, "cinder-manage"), "--config-file", conf("m", "m", "b"),
                        "db", "sync"], check=True)
        start("sched1", "cinder-scheduler", "sched1")
        start("sched2", "cinder-scheduler", "sched2")
        start("vol1", "cinder-volume", "vol1", "fast")
        start("vol2", "cinder-volume", "vol2", "slow")
        port = int(start("api", "cinder-api", "api").strip().rsplit(":", 1)[1])
        time.sleep(2)
        for name, p in procs.items():
            print(f"idle RSS {name}: {rss_mib(p.pid):.1f} MiB")

        api = Api(port)
        lat = []
        for _ in range(args.sequential):
            t0 = time.perf_counter()
            code, body = api.call("POST", "/volumes", {"volume": {"size": 1}})
            assert code == 202, body
            vid = body["volume"]["id"]
            while api.call("GET", f"/volumes/{vid}")[1]["volume"]["status"] == "creating":
                pass
            lat.append(time.perf_counter() - t0)
        lat.sort()
        print(f"create to available across processes ({args.sequential} sequential): median "
              f"{statistics.median(lat) * 1000:.2f} ms, p90 {lat[int(len(lat) * 0.9)] * 1000:.2f} ms")

        def post(_):
            a = Api(port)
            code, body = a.call("POST", "/volumes", {"volume": {"size": 1}})
            assert code == 202, body
            return body["volume"]["id"]

        cpu0 = {name: cpu_seconds(p.pid) for name, p in procs.items()}
        busy0 = machine_busy_seconds()
        t0 = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(16) as ex:
            ids = list(ex.map(post, range(args.burst)))
        posted = time.perf_counter() - t0
        pending = set(ids)
        while pending:
            code, body = api.call("GET", "/volumes/detail?status=creating&limit=1000")
            pending &= {v["id"] for v in body["volumes"]}
        done = time.perf_counter() - t0
        code, body = api.call("GET", "/volumes/detail?limit=1000")
        states = {v["id"]: (v["status"], v["os-vol-host-attr:host"]) for v in body["volumes"]}
        print("CPU seconds during the burst: " +
              ", ".join(f"{name} {cpu_seconds(p.pid) - cpu0[name]:.2f}" for name, p in procs.items()) +
              f"; the whole machine {machine_busy_seconds() - busy0:.2f} (2 cores)")
        ok = sum(1 for i in ids if states[i][0] == "available")
        hosts = {states[i][1] for i in ids}
        print(f"burst of {args.burst} creates: all accepted in {posted:.2f} s, all available in {done:.2f} s "
              f"({args.burst / done:.0f}/s), {ok} available, on {sorted(hosts)}")
        time.sleep(3)
        for name, p in procs.items():
            print(f"RSS after the load {name}: {rss_mib(p.pid):.1f} MiB")
    finally:
        for p in procs.values():
            p.terminate()
        for p in procs.values():
            p.wait(timeout=30)
        subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), "stop", pg])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
