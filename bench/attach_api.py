#!/usr/bin/env python3
"""Attach latency over the REST API: cinder-all on SQLite with a private tgtd (scripts/
tgtd-harness.sh), N volumes; for each, POST /attachments with a connector (the iSCSI export
made by tgtadm included) and DELETE /attachments/{id} (the export removed), timed one at a time
over one keep-alive connection. Prints the median and p90 of each in milliseconds.

Usage: bench/attach_api.py [--bin build/bin] [-n 50]
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
HEADERS = {"X-Auth-Token": f"bench:{PROJECT}", "OpenStack-API-Version": "volume 3.70",
           "Content-Type": "application/json"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("-n", type=int, default=50)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="attach-bench-")
    tgt = os.path.join(tmp, "tgtd")
    subprocess.run([os.path.join(ROOT, "scripts", "tgtd-harness.sh"), "start", tgt], check=True, capture_output=True)
    if os.path.exists(os.path.join(tgt, "unavailable")):
        sys.exit("tgtd is not installed")
    env = dict(l.strip().split("=", 1) for l in open(os.path.join(tgt, "env")) if "=" in l)
    conf = os.path.join(tmp, "cinder.conf")
    with open(conf, "w") as f:
        f.write(f"""[DEFAULT]
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 0
state_path = {tmp}
enabled_backends = file
quota_volumes = -1
quota_gigabytes = -1
[file]
volume_driver = file
target_helper = tgtadm
target_ip_address = 127.0.0.1
target_port = {env['TGTD_PORT']}
tgt_ipc_socket = {env['TGT_IPC_SOCKET']}
""")
    subprocess.run([os.path.join(args.bin, "cinder-manage"), "--config-file", conf, "db", "sync"], check=True)
    proc = subprocess.Popen([os.path.join(args.bin, "cinder-all"), "--config-file", conf], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = ""
        while "listening on" not in line:
            line = proc.stdout.readline()
            if not line:
                sys.exit("cinder-all did not start")
        port = int(line.strip().rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call(method, path, body=None):
            conn.request(method, f"/v3/{PROJECT}{path}", json.dumps(body) if body is not None else None, HEADERS)
            r = conn.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data else None)

        vols = []
        for i in range(args.n):
            code, body = call("POST", "/volumes", {"volume": {"size": 1}})
            assert code == 202, body
            vols.append(body["volume"]["id"])
        for vid in vols:
            while call("GET", f"/volumes/{vid}")[1]["volume"]["status"] != "available":
                time.sleep(0.01)
        attach, detach = [], []
        for vid in vols:
            t0 = time.perf_counter()
            code, body = call("POST", "/attachments", {"attachment": {"volume_uuid": vid, "connector": {
                "initiator": "iqn.2026-12.org.libcinder:bench", "host": "bench"}}})
            t1 = time.perf_counter()
            assert code == 200 and body["attachment"]["connection_info"]["driver_volume_type"] == "iscsi", body
            code, _ = call("DELETE", f"/attachments/{body['attachment']['id']}")
            t2 = time.perf_counter()
            assert code == 200
            attach.append((t1 - t0) * 1000)
            detach.append((t2 - t1) * 1000)
        for name, xs in (("attachment-create with a connector (export)", attach),
                         ("attachment-delete (export removed)", detach)):
            xs.sort()
            print(f"{name}: median {statistics.median(xs):.1f} ms, p90 {xs[int(len(xs) * 0.9) - 1]:.1f} ms "
                  f"(n={len(xs)})")
    finally:
        proc.terminate()
        proc.wait()
        subprocess.run([os.path.join(ROOT, "scripts", "tgtd-harness.sh"), "stop", tgt], capture_output=True)


if __name__ == "__main__":
    main()
