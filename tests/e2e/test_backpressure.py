"""Back-pressure instead of failures: 16 clients create volumes as fast as they can on the
distributed daemons over PostgreSQL and on cinder-all over SQLite, and then while both volume
hosts stall (SIGSTOP) for longer than a scheduler waits for a host to take a volume. Every create
the API accepts ends `available` (none `error`); the API refuses creates up front (Cinder's 413
overLimit body and a Retry-After) once osapi_max_pending_creates volumes are being created, so
that the backlog stays bounded; `cinder-manage service backlog` shows where the work waits."""
import concurrent.futures
import http.client
import json
import os
import signal
import subprocess
import threading
import time

import test_distributed
from conftest import BIN, PROJECT, USER, start_service, stop_service
from test_distributed import Cluster

TOTAL = int(os.environ.get("CINDER_E2E_BACKLOG_CREATES", "5000"))
CLIENTS = 16


def post_creates(port, total, clients):
    """Creates from `clients` keep-alive connections until `total` were sent; a refused create is
    retried after the Retry-After it names, as a well-behaved client does. Returns the accepted
    ids and the refusals seen."""
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    def run(n):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"X-Auth-Token": f"{USER}:{PROJECT}", "OpenStack-API-Version": "volume 3.70",
                   "Content-Type": "application/json"}
        ids, refused = [], []
        body = json.dumps({"volume": {"size": 1}})
        while len(ids) < n:
            conn.request("POST", f"/v3/{PROJECT}/volumes", body=body, headers=headers)
            r = conn.getresponse()
            data = json.loads(r.read() or b"null")
            if r.status == 202:
                ids.append(data["volume"]["id"])
                continue
            refused.append((r.status, data, r.getheader("Retry-After")))
            assert r.status == 413, (r.status, data)
            time.sleep(min(float(r.getheader("Retry-After") or 1), 2))
        conn.close()
        return ids, refused

    with concurrent.futures.ThreadPoolExecutor(clients) as ex:
        results = list(ex.map(run, per_client))
    return [i for ids, _ in results for i in ids], [x for _, refused in results for x in refused]


def statuses(port):
    """status -> count over every volume of the project, by pages."""
    counts, marker = {}, None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"X-Auth-Token": f"{USER}:{PROJECT}", "OpenStack-API-Version": "volume 3.70"}
    while True:
        q = "?limit=1000" + (f"&marker={marker}" if marker else "")
        conn.request("GET", f"/v3/{PROJECT}/volumes/detail{q}", headers=headers)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 200, body
        for v in body["volumes"]:
            counts[v["status"]] = counts.get(v["status"], 0) + 1
        if len(body["volumes"]) < 1000:
            return counts
        marker = body["volumes"][-1]["id"]


def drain(port, total, timeout):
    deadline = time.time() + timeout
    counts = {}
    while time.time() < deadline:
        counts = statuses(port)
        if counts.get("available", 0) + counts.get("error", 0) >= total:
            return counts
        time.sleep(1)
    return counts


def check(port, result):
    created, refused_list = result
    for status, body, retry_after in refused_list:
        # Cinder's overLimit body, a message that says what to do, and when to retry.
        assert status == 413 and "overLimit" in body, body
        assert "retry" in body["overLimit"]["message"].lower(), body
        assert retry_after and int(retry_after) >= 1, retry_after
    counts = drain(port, len(created), 600)
    assert counts == {"available": len(created)}, counts


def test_a_burst_of_creates_on_the_distributed_services_over_postgresql_all_end_available(tmp_path):
    c = Cluster(str(tmp_path))
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("v1", "cinder-volume", "vol1", "b1")
        c.start("v2", "cinder-volume", "vol2", "b2")
        c.start("api", "cinder-api", "apihost")
        result = post_creates(c.port, TOTAL, CLIENTS)
        check(c.port, result)
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()


def test_a_burst_of_creates_on_cinder_all_over_sqlite_all_end_available(tmp_path):
    proc, svc = start_service(tmp_path, extra="quota_volumes = -1\nquota_gigabytes = -1\n",
                              log_file=os.path.join(str(tmp_path), "all.log"))
    try:
        port = int(svc.endpoint.rsplit(":", 1)[1])
        result = post_creates(port, TOTAL, CLIENTS)
        check(port, result)
    finally:
        stop_service(proc)


class BusyCluster(Cluster):
    """The distributed daemons with a small bound on pending creates."""
    LIMIT = 40

    def conf(self, name, host, backend, backend_extra=""):
        path = super().conf(name, host, backend, backend_extra)
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("[DEFAULT]\n", f"[DEFAULT]\nosapi_max_pending_creates = {self.LIMIT}\n", 1))
        return path

    def backlog(self):
        """(queue, status) -> volumes, from cinder-manage service backlog."""
        out = subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", self.conf("m", "m", "b"),
                              "service", "backlog"], check=True, capture_output=True, text=True).stdout
        lines = out.splitlines()
        assert lines[0].split() == ["Queue", "Status", "Volumes", "Oldest", "(s)"], out
        return {(cells[0], cells[1]): int(cells[2]) for cells in (line.split() for line in lines[1:])}


def test_stalled_volume_hosts_make_the_api_refuse_creates_and_the_backlog_drains_to_available(tmp_path, monkeypatch):
    # An 8 s stall: not a dead service (which the sweeps rightly fail) with a service_down_time
    # of 15 s, but longer than the scheduler waits for each of the two hosts to take a volume
    # (3 s): those it placed meanwhile wait unplaced, and its sweep places them again.
    monkeypatch.setattr(test_distributed, "DOWN_TIME", 15)
    c = BusyCluster(str(tmp_path))
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("v1", "cinder-volume", "vol1", "b1")
        c.start("v2", "cinder-volume", "vol2", "b2")
        c.start("api", "cinder-api", "apihost")
        result = {}
        burst = threading.Thread(target=lambda: result.setdefault("r", post_creates(c.port, 600, CLIENTS)))
        burst.start()
        time.sleep(0.5)
        hosts = [c.procs["v1"], c.procs["v2"]]
        for p in hosts:
            p.send_signal(signal.SIGSTOP)
        most, queues = 0, set()
        try:
            stalled_until = time.time() + 8
            while time.time() < stalled_until:
                backlog = c.backlog()
                most = max(most, sum(n for (_, status), n in backlog.items() if status == "creating"))
                queues.update(q for q, _ in backlog)
                time.sleep(0.2)
        finally:
            for p in hosts:
                p.send_signal(signal.SIGCONT)
        burst.join(timeout=300)
        created, refused = result["r"]
        assert refused, "no create was refused while both volume hosts were stalled"
        # Bounded: the API's count may run behind by the creates being answered at that moment.
        assert most <= BusyCluster.LIMIT + 16, most
        assert queues & {"(schedulers)", "vol1@b1", "vol2@b2"}, queues
        check(c.port, result["r"])
        assert c.backlog() == {}
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()
