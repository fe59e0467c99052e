#!/usr/bin/env python3
"""libcinder scale benchmark: cinder-all on SQLite and on a throwaway PostgreSQL.

  list    GET /v3/{p}/volumes/detail at one connection (wrk) with 100 and 1000 volumes
  scale   at each size (100, 15000, 100000 volumes by default): create -> available latency
          (sequential creates, median and p90) and the rate at which the API accepts a burst
          of creates from 16 clients (time until every POST answered 202)

The scale phase fills the database with SQL (cinder-all stopped): volumes on the pool the API's
first volume went to, and the project's quota usage rows recomputed from them, so quotas and
pool figures stay consistent. The volumes each phase creates are deleted after it, so that every
size is measured at that size.

Usage: bench/scale.py [--bin build/bin] [--db sqlite,postgresql] [--phases list,scale]
                      [--sizes 100,15000,100000] [--duration 5] [--repeat 3]
                      [--sequential 200] [--burst 400]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
from bench import HEADERS, PROJECT, free_port  # noqa: E402 (bench/bench.py, beside this file)

USER = "bench"  # the user in HEADERS' token


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method, path, body=None):
        self.conn.request(method, f"/v3/{PROJECT}{path}", body=json.dumps(body) if body is not None else None,
                          headers=HEADERS)
        r = self.conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)


class Database:
    """The database under test: a file under the state folder, or a throwaway PostgreSQL."""

    def __init__(self, kind, tmp):
        self.kind = kind
        self.tmp = tmp
        self.pg_dir = os.path.join(tmp, "pg")
        if kind == "postgresql":
            subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), "start", self.pg_dir], check=True,
                           capture_output=True)
            self.url = open(os.path.join(self.pg_dir, "url")).read().strip()
        else:
            self.path = os.path.join(tmp, "cinder.sqlite")
            self.url = "sqlite:///" + self.path

    def close(self):
        if self.kind == "postgresql":
            subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), "stop", self.pg_dir])

    def _psql_url(self):
        return self.url.split("?")[0]

    def query(self, sql):
        """Runs `sql` (one statement); returns its rows as tuples of text."""
        if self.kind == "postgresql":
            out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                                  self._psql_url(), "-c", sql], check=True, capture_output=True, text=True).stdout
            return [tuple(line.split("\t")) for line in out.splitlines() if line]
        with sqlite3.connect(self.path) as c:
            return [tuple("" if v is None else str(v) for v in r) for r in c.execute(sql).fetchall()]

    def insert_volumes(self, rows):
        cols = ("id", "user_id", "project_id", "host", "size", "availability_zone", "status", "attach_status",
                "display_name", "volume_type_id", "bootable", "multiattach", "created_at", "updated_at", "deleted")
        if self.kind == "postgresql":
            data = "".join("\t".join(str(v) for v in r) + "\n" for r in rows)
            # Without the pool_usage trigger (one transaction updating one counter row 100,000
            # times is quadratic on PostgreSQL); the sums are recomputed below instead.
            subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", self._psql_url(),
                            "-c", "ALTER TABLE volumes DISABLE TRIGGER USER",
                            "-c", f"COPY volumes ({', '.join(cols)}) FROM STDIN",
                            "-c", "ALTER TABLE volumes ENABLE TRIGGER USER"], input=data, check=True,
                           capture_output=True, text=True)
            if self.query("SELECT to_regclass('pool_usage') IS NOT NULL")[0][0] == "t":  # schema 5 on
                self.query("DELETE FROM pool_usage")
                self.query("INSERT INTO pool_usage (host, volumes, gigabytes, settled_volumes, settled_gigabytes) "
                           "SELECT host, COUNT(*), SUM(size), SUM(CASE WHEN status <> 'creating' THEN 1 ELSE 0 END), "
                           "SUM(CASE WHEN status <> 'creating' THEN size ELSE 0 END) FROM volumes "
                           "WHERE deleted = 0 AND host IS NOT NULL AND host <> '' GROUP BY host")
            self.query("ANALYZE")  # as autovacuum would soon
            return
        with sqlite3.connect(self.path) as c:
            c.executemany(f"INSERT INTO volumes ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)


class Server:
    def __init__(self, binary_dir, db, tmp):
        self.bin = binary_dir
        self.db = db
        self.port = free_port()
        self.state = os.path.join(tmp, "state")
        os.makedirs(self.state, exist_ok=True)
        self.conf = os.path.join(tmp, "cinder.conf")
        with open(self.conf, "w") as f:
            f.write(f"[DEFAULT]\nosapi_volume_listen = 127.0.0.1\nosapi_volume_listen_port = {self.port}\n"
                    f"state_path = {self.state}\nosapi_max_limit = 1000\n"
                    # 100,000 volumes of 1 GiB: no quota and no over-subscription limit in the way.
                    "quota_volumes = -1\nquota_gigabytes = -1\nquota_snapshots = -1\n"
                    "max_over_subscription_ratio = 10000\n"
                    f"[database]\nconnection = {db.url}\n")
        subprocess.run([os.path.join(self.bin, "cinder-manage"), "--config-file", self.conf, "db", "sync"],
                       check=True, capture_output=True)
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.state, "cinder-all.log"), "a")
        self.proc = subprocess.Popen([os.path.join(self.bin, "cinder-all"), "--config-file", self.conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/")
                if c.getresponse().status == 300:
                    time.sleep(1.5)  # the first capacity report
                    return Api(self.port)
            except OSError:
                time.sleep(0.01)
        sys.exit("cinder-all did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=60)
            self.proc = None
            self.log.close()


def in_parallel(fn, items, clients=16):
    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        return list(ex.map(fn, items))


def post_volume(port):
    code, body = Api(port).call("POST", "/volumes", {"volume": {"size": 1}})
    assert code == 202, (code, body)
    return body["volume"]["id"]


def count(api, status=None):
    q = "?with_count=true&limit=0" + (f"&status={status}" if status else "")
    return api.call("GET", "/volumes" + q)[1]["count"]


def wait_settled(api):
    """Until no volume is creating or deleting."""
    while count(api, "creating") or count(api, "deleting"):
        time.sleep(0.05)


def create_api(api, port, n):
    ids = in_parallel(lambda _: post_volume(port), range(n))
    wait_settled(api)
    return ids


def delete_api(api, port, ids):
    def delete(vid):
        code, body = Api(port).call("DELETE", f"/volumes/{vid}")
        assert code == 202, (code, body)
    in_parallel(delete, ids)
    wait_settled(api)


def wrk_rate(port, duration):
    url = f"http://127.0.0.1:{port}/v3/{PROJECT}/volumes/detail"
    cmd = ["wrk", "-t", "1", "-c", "1", "-d", f"{duration}s"]
    for k, v in HEADERS.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    assert "Non-2xx" not in out, out
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def sequential_latency(api, n):
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        code, body = api.call("POST", "/volumes", {"volume": {"size": 1}})
        assert code == 202, body
        vid = body["volume"]["id"]
        while True:
            status = api.call("GET", f"/volumes/{vid}")[1]["volume"]["status"]
            if status == "available":
                break
            assert status == "creating", status
        lat.append(time.perf_counter() - t0)
        yield vid
    lat.sort()
    sequential_latency.result = (statistics.median(lat) * 1000, lat[int(len(lat) * 0.9)] * 1000)


def accept_rate(port, n):
    t0 = time.perf_counter()
    ids = in_parallel(lambda _: post_volume(port), range(n))
    return ids, n / (time.perf_counter() - t0)


def fill_sql(db, n, template):
    """Adds n available volumes like `template` (host, type, zone) to the project, then
    recomputes the project's usage rows from the volumes table."""
    t0 = time.time()
    rows = []
    base = time.time() - 86400
    for i in range(n):
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i * 0.001)) + f".{i % 1000:03d}000"
        rows.append((str(uuid.uuid4()), USER, PROJECT, template["host"], 1, template["az"], "available", "detached",
                     f"fill-{i}", template["type_id"], 0, 0, ts, ts, 0))
    db.insert_volumes(rows)
    live = f"FROM volumes v WHERE v.deleted = 0 AND v.project_id = '{PROJECT}'"
    typed = live.replace("WHERE", "JOIN volume_types t ON t.id = v.volume_type_id WHERE")
    for resource, total in (("volumes", "COUNT(*)"), ("gigabytes", "COALESCE(SUM(v.size), 0)")):
        db.query(f"UPDATE quota_usages SET in_use = (SELECT {total} {live}) WHERE deleted = 0 "
                 f"AND project_id = '{PROJECT}' AND resource = '{resource}'")
        # Per type: volumes_<type>, gigabytes_<type>.
        db.query(f"UPDATE quota_usages SET in_use = (SELECT {total} {typed} AND '{resource}_' || t.name = "
                 f"quota_usages.resource) WHERE deleted = 0 AND project_id = '{PROJECT}' "
                 f"AND resource LIKE '{resource}_%'")
    return time.time() - t0


def check_usage(db):
    usage = dict(db.query(f"SELECT resource, in_use FROM quota_usages WHERE deleted = 0 AND project_id = '{PROJECT}' "
                          "AND resource IN ('volumes', 'gigabytes')"))
    live = db.query(f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM volumes WHERE deleted = 0 AND project_id = '{PROJECT}'")[0]
    assert (int(usage["volumes"]), int(usage["gigabytes"])) == (int(live[0]), int(live[1])), (usage, live)
    return int(live[0])


def run_list(args, kind):
    tmp = tempfile.mkdtemp(prefix=f"cinder-scale-{kind}-")
    db = Database(kind, tmp)
    server = Server(args.bin, db, tmp)
    try:
        api = server.start()
        have = 0
        for target in (100, 1000):
            create_api(api, server.port, target - have)
            have = target
            if kind == "postgresql":
                db.query("ANALYZE")  # the statistics autovacuum gathers within its first minute
            rates = [wrk_rate(server.port, args.duration) for _ in range(args.repeat)]
            print(f"{kind}: GET volumes/detail, {target} volumes, 1 connection: median {statistics.median(rates):.1f} "
                  f"req/s ({', '.join(f'{r:.0f}' for r in rates)})", flush=True)
    finally:
        server.stop()
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)


def run_scale(args, kind):
    tmp = tempfile.mkdtemp(prefix=f"cinder-scale-{kind}-")
    db = Database(kind, tmp)
    server = Server(args.bin, db, tmp)
    try:
        api = server.start()
        first = post_volume(server.port)
        wait_settled(api)
        v = api.call("GET", f"/volumes/{first}")[1]["volume"]
        template = {"host": v["os-vol-host-attr:host"], "az": v["availability_zone"], "type_id": v["volume_type_id"]}
        have = 1
        for size in args.sizes:
            if size > have:
                server.stop()
                took = fill_sql(db, size - have, template)
                have = check_usage(db)
                print(f"{kind}: filled to {have} volumes in {took:.1f} s", flush=True)
                api = server.start()
            lats, rates = [], []
            for _ in range(args.repeat):
                ids = list(sequential_latency(api, args.sequential))
                lats.append(sequential_latency.result)
                delete_api(api, server.port, ids)
                ids, rate = accept_rate(server.port, args.burst)
                rates.append(rate)
                wait_settled(api)
                delete_api(api, server.port, ids)
            assert check_usage(db) == have
            med = statistics.median(x[0] for x in lats)
            p90 = statistics.median(x[1] for x in lats)
            print(f"{kind}: {have} volumes: create -> available median {med:.2f} ms, p90 {p90:.2f} ms "
                  f"({', '.join(f'{x[0]:.2f}' for x in lats)}); accept rate from 16 clients median "
                  f"{statistics.median(rates):.0f}/s ({', '.join(f'{r:.0f}' for r in rates)})", flush=True)
    finally:
        server.stop()
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--phases", default="list,scale")
    ap.add_argument("--sizes", default="100,15000,100000")
    ap.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each measurement (medians are reported)")
    ap.add_argument("--sequential", type=int, default=200, help="sequential creates of a latency run")
    ap.add_argument("--burst", type=int, default=400, help="creates of an accept-rate run")
    args = ap.parse_args()
    args.sizes = [int(x) for x in args.sizes.split(",")]
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is not installed (apt-get install wrk, or scripts/install-deps.sh)")
    for kind in args.db.split(","):
        if "list" in args.phases:
            run_list(args, kind)
        if "scale" in args.phases:
            run_scale(args, kind)


if __name__ == "__main__":
    main()
