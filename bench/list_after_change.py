#!/usr/bin/env python3
"""The volume list cache's two paths on PostgreSQL, 100 volumes, one connection: GET
volumes/detail repeated (a hit), and GET volumes/detail after a metadata change each time (a
miss: the list is read again). Median latency of 300 of each, alternated twice.

Usage: bench/list_after_change.py BIN_DIR
"""
import http.client
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402

bin_dir = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
tmp = tempfile.mkdtemp(prefix="miss-")
db = scale.Database("postgresql", tmp)
srv = scale.Server(bin_dir, db, tmp)
api = srv.start()
scale.create_api(api, srv.port, 100)
PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
H = {"X-Auth-Token": f"bench:{PROJECT}", "OpenStack-API-Version": "volume 3.70", "Content-Type": "application/json"}
c = http.client.HTTPConnection("127.0.0.1", srv.port)


def call(m, p, b=None):
    c.request(m, f"/v3/{PROJECT}{p}", json.dumps(b) if b is not None else None, H)
    r = c.getresponse()
    return r.status, r.read()


_, d = call("GET", "/volumes"); vid = json.loads(d)["volumes"][0]["id"]
for mode in ("hit", "miss", "hit", "miss"):
    ts = []
    for i in range(300):
        if mode == "miss":
            call("POST", f"/volumes/{vid}/metadata", {"metadata": {"k": str(i)}})
        t = time.perf_counter()
        call("GET", "/volumes/detail")
        ts.append((time.perf_counter() - t) * 1000)
    print(bin_dir, mode, f"median {statistics.median(ts):.3f} ms")
srv.stop()
db.close()
