#!/usr/bin/env python3
"""The cost of authentication (issue 13): the same build under noauth and under keystone.

  list     GET /v3/{p}/volumes/detail with 100 volumes, wrk at 1 and 8 connections, noauth and
           keystone (a cached token) alternating round by round; the median of the rounds
  issue    POST /identity/v3/auth/tokens (password, project scope): median and p90 over N
           sequential logins, with the bcrypt cost of the configuration, and a wrong password's
           (build/bin/bench_auth separates the hash from the rest, in process)
  burst    64 clients logging in at once: how many succeed, and the wall time

Usage: bench/identity.py [--bin build/bin] [--rounds 5] [--duration 5] [--logins 50] [--cost 12]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import PROJECT, free_port  # noqa: E402

PASSWORD = "bench-admin-pw"


class Server:
    def __init__(self, bindir, auth, cost):
        self.state = tempfile.mkdtemp(prefix=f"cinder-identity-{auth}-")
        self.port = free_port()
        conf = os.path.join(self.state, "cinder.conf")
        with open(conf, "w") as f:
            f.write(f"[DEFAULT]\nosapi_volume_listen = 127.0.0.1\nosapi_volume_listen_port = {self.port}\n"
                    f"state_path = {self.state}\nauth_strategy = {auth}\nquota_volumes = -1\nquota_gigabytes = -1\n"
                    f"[identity]\npassword_hash_rounds = {cost}\n")
        manage = os.path.join(bindir, "cinder-manage")
        subprocess.run([manage, "--config-file", conf, "db", "sync"], check=True)
        if auth == "keystone":
            subprocess.run([manage, "--config-file", conf, "bootstrap", "--admin-password", PASSWORD], check=True,
                           stdout=subprocess.DEVNULL)
        self.proc = subprocess.Popen([os.path.join(bindir, "cinder-all"), "--config-file", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", self.port, timeout=2).request("GET", "/")
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        if auth == "keystone":
            self.token, body = login(self.port, PASSWORD)
            self.project = body["token"]["project"]["id"]
        else:
            # A user id as long as Keystone's, so that both servers' volumes (user_id) and
            # answers are the same size and only authentication differs.
            self.token, self.project = f"{'5f8d3a78756b4fb7bd9715844b18b1a4'}:{PROJECT}", PROJECT

    def headers(self):
        return {"X-Auth-Token": self.token, "OpenStack-API-Version": "volume 3.70", "Content-Type": "application/json"}

    def fill(self, n):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for _ in range(n):
            conn.request("POST", f"/v3/{self.project}/volumes", json.dumps({"volume": {"size": 1}}), self.headers())
            r = conn.getresponse()
            r.read()
            assert r.status == 202, r.status
        time.sleep(1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)
        shutil.rmtree(self.state, ignore_errors=True)


def login(port, password, status=201):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/identity/v3/auth/tokens", json.dumps(body), {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    assert r.status == status, (r.status, data)
    return r.getheader("X-Subject-Token"), (json.loads(data) if data else None)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(server, conns, duration):
    """(requests/s, the server's CPU microseconds per request): the CPU figure is what the
    noise of other processes on a shared machine disturbs least."""
    cmd = ["wrk", "-t", str(min(conns, 2)), "-c", str(conns), "-d", f"{duration}s", "--timeout", "30s"]
    for k, v in server.headers().items():
        cmd += ["-H", f"{k}: {v}"]
    cpu0 = cpu_seconds(server.proc.pid)
    out = subprocess.run(cmd + [f"http://127.0.0.1:{server.port}/v3/{server.project}/volumes/detail"],
                         capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(server.proc.pid) - cpu0
    assert "Non-2xx" not in out, out
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), 1e6 * cpu / max(total, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "build", "bin"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--logins", type=int, default=50)
    ap.add_argument("--cost", type=int, default=12, help="bcrypt cost ([identity] password_hash_rounds)")
    args = ap.parse_args()
    servers = {"noauth": Server(args.bin, "noauth", args.cost), "keystone": Server(args.bin, "keystone", args.cost)}
    try:
        for s in servers.values():
            s.fill(100)
        for conns in (1, 8):
            rates = {name: [] for name in servers}
            cpus = {name: [] for name in servers}
            for _ in range(args.rounds):
                for name, s in servers.items():
                    rps, cpu = wrk(s, conns, args.duration)
                    rates[name].append(rps)
                    cpus[name].append(cpu)
            med = {name: statistics.median(r) for name, r in rates.items()}
            cpu = {name: statistics.median(c) for name, c in cpus.items()}
            print(f"GET volumes/detail, 100 volumes, {conns} conns: noauth {med['noauth']:.0f} req/s "
                  f"({cpu['noauth']:.0f} us CPU/request), keystone {med['keystone']:.0f} req/s "
                  f"({cpu['keystone']:.0f} us CPU/request): rate {100 * (med['keystone'] / med['noauth'] - 1):+.1f}%, "
                  f"CPU {100 * (cpu['keystone'] / cpu['noauth'] - 1):+.1f}%; rounds noauth "
                  f"{[round(x) for x in rates['noauth']]} keystone {[round(x) for x in rates['keystone']]}",
                  flush=True)
        ks = servers["keystone"]
        times, wrong = [], []
        for _ in range(args.logins):
            t0 = time.perf_counter()
            login(ks.port, PASSWORD)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            login(ks.port, "not-the-password", status=401)
            wrong.append(time.perf_counter() - t0)
        times.sort()
        wrong.sort()
        med, hash_only = statistics.median(times), statistics.median(wrong)
        print(f"token issue over HTTP (password, bcrypt cost {args.cost}): median {1000 * med:.1f} ms, p90 "
              f"{1000 * times[int(0.9 * len(times))]:.1f} ms; a wrong password {1000 * hash_only:.1f} ms "
              f"(the hash and a failure count written). build/bin/bench_auth gives the hash alone and the rest.",
              flush=True)
        results = []

        def one():
            try:
                login(ks.port, PASSWORD)
                results.append(True)
            except Exception:  # noqa: BLE001
                results.append(False)
        threads = [threading.Thread(target=one) for _ in range(64)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"64 clients logging in at once: {sum(results)} of 64 succeeded in {time.perf_counter() - t0:.2f} s",
              flush=True)
    finally:
        for s in servers.values():
            s.stop()


if __name__ == "__main__":
    main()
