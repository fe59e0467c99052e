#!/usr/bin/env python3
"""Filtered volume lists over 10,000 volumes of one project, on SQLite and PostgreSQL:
GET /v3/{p}/volumes/detail?created_at=gt:T&bootable=true (3.60), one connection.

The volumes are written with SQL before cinder-all starts: created one a second over the last
10,000 seconds, every 10th bootable. Two selections: the newest 10% (about 100 bootable
volumes listed) and all of them (1,000 bootable: a full page at osapi_max_limit = 1000).
Each is measured as a miss of the list cache (an untimed metadata change of one of the
project's volumes before each request makes the list be read from the database) and as a hit
(the same request again, unchanged). Median and p90 of 200 requests each.

Usage: bench/list_filters.py [BIN_DIR] [sqlite,postgresql]
"""
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scale  # noqa: E402

N = 10000
ROUNDS = 200


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".000000"


def run(bin_dir, kind):
    tmp = tempfile.mkdtemp(prefix=f"list-filters-{kind}-")
    db = scale.Database(kind, tmp)
    srv = scale.Server(bin_dir, db, tmp)
    try:
        type_id = db.query("SELECT id FROM volume_types WHERE name = '__DEFAULT__'")[0][0]
        base = time.time() - N - 60
        rows = []
        for i in range(N):
            ts = iso(base + i)
            rows.append((str(uuid.uuid4()), scale.USER, scale.PROJECT, "h@file#file", 1, "nova", "available",
                         "detached", f"fill-{i}", type_id, 1 if i % 10 == 0 else 0, 0, ts, ts, 0))
        db.insert_volumes(rows)
        if kind == "postgresql":
            db.query("ANALYZE")
        api = srv.start()
        headers = dict(scale.HEADERS)
        headers["OpenStack-API-Version"] = "volume 3.60"
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)

        def call(method, path, body=None):
            conn.request(method, f"/v3/{scale.PROJECT}{path}", json.dumps(body) if body is not None else None,
                         headers)
            r = conn.getresponse()
            return r.status, r.read()

        touch = rows[0][0]
        for label, since in (("newest 10%", base + N * 0.9 - 0.5), ("all", base - 1)):
            path = f"/volumes/detail?created_at=gt:{iso(since)}&bootable=true"
            status, body = call("GET", path)
            assert status == 200, body
            listed = len(json.loads(body)["volumes"])
            for mode in ("miss", "hit"):
                ts = []
                for i in range(ROUNDS):
                    if mode == "miss":
                        assert call("PUT", f"/volumes/{touch}/metadata", {"metadata": {"n": str(i)}})[0] == 200
                    t0 = time.perf_counter()
                    status, _ = call("GET", path)
                    ts.append((time.perf_counter() - t0) * 1000)
                    assert status == 200
                ts.sort()
                print(f"{kind}: {N} volumes, GET volumes/detail?created_at=gt:..&bootable=true ({label}: {listed} "
                      f"listed), cache {mode}: median {statistics.median(ts):.2f} ms, p90 {ts[int(len(ts) * 0.9)]:.2f} ms",
                      flush=True)
    finally:
        srv.stop()
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    bin_dir = sys.argv[1] if len(sys.argv) > 1 else "build/bin"
    kinds = sys.argv[2].split(",") if len(sys.argv) > 2 else ["sqlite", "postgresql"]
    for kind in kinds:
        run(bin_dir, kind)


if __name__ == "__main__":
    main()
