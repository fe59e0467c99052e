"""The fault matrix: the distributed daemons over a PostgreSQL cluster that loses no commit in a
crash (fsync and synchronous_commit on), one daemon at a time killed with SIGKILL in the middle of
a burst of creates, deletes and retypes (across the two backends, so with a copy between the two
volume hosts) and started again; then PostgreSQL itself stopped with `pg_ctl -m immediate` under
the same load and started again.

After every fault, within the bound docs/operators.md states ("Faults and recovery"):
- no volume is creating, deleting, extending, retyping or reverting, and no quota is reserved;
- the project's quota usage (os-quota-sets ?usage=True) is what exists: volumes and gigabytes in
  use, in total and per type, are the live rows', with nothing reserved;
- every live volume row has its file on its backend (a create that failed may have none: it is
  `error`), and every file of a backend's folder is the volume of a live row on that backend.
Every answer the API gave meanwhile is a success, a client error the request deserved, or 503
with Cinder's serviceUnavailable body; never a 500, and no body quotes SQL or the database
driver. The services reconnect by themselves: none is restarted after the database restart."""
import http.client
import json
import os
import re
import subprocess
import threading
import time

import pytest

from conftest import BIN, PROJECT, ROOT, USER
from test_distributed import Cluster

REPORT_INTERVAL = 1  # the daemons' report_interval (heartbeats, sweeps)
DOWN_TIME = 3  # service_down_time
# The sweeps' own timings (libcinder/volume/volume_recovery.cc kOrphanGraceSeconds and
# libcinder/scheduler/scheduler_service.cc kUnplacedGraceSeconds).
ORPHAN_GRACE = 30
# The bound docs/operators.md states: the orphan grace plus three sweep periods (one to see the
# orphan, one to settle what it left, one to remove a copy that belongs to no volume), plus the
# time the repair itself takes (a delete, a create placed again) and this test's polling.
BOUND = ORPHAN_GRACE + 3 * REPORT_INTERVAL + 7

TRANSITIONAL = ("creating", "deleting", "extending", "retyping", "reverting")
BACKENDS = {"fast": ("v1", "vol1"), "slow": ("v2", "vol2")}  # backend -> (daemon name, host)
# What a body may never carry: SQL, the database's or its drivers' words.
LEAKS = re.compile(r"\bselect |\binsert into\b|\bupdate volumes\b|\bdelete from\b| where |\bpostgres|\blibpq\b|"
                   r"\bsoci\b|\bsqlite|server closed|\bfatal:|\berror:|sqlstate|terminating connection|\bsql\b", re.I)


class FaultCluster(Cluster):
    """test_distributed's cluster on a durable PostgreSQL, with the two backends of a retype."""

    def __init__(self, tmp):
        super().__init__(tmp, durable=True)
        self.answers = []  # (what, status, body text) of every API answer during the faults
        self.answers_mu = threading.Lock()

    def start_volume(self, backend):
        name, host = BACKENDS[backend]
        return self.start(name, "cinder-volume", host, backend, f"volume_backend_name = {backend}")

    def start_all(self):
        self.start("s1", "cinder-scheduler", "sched1")
        self.start("s2", "cinder-scheduler", "sched2")
        self.start_volume("fast")
        self.start_volume("slow")
        self.start("api", "cinder-api", "apihost")

    def restart(self, name):
        binary = {"api": "cinder-api", "s1": "cinder-scheduler", "s2": "cinder-scheduler"}.get(name)
        if binary is None:
            backend = next(b for b, (n, _) in BACKENDS.items() if n == name)
            return self.start_volume(backend)
        host = {"api": "apihost", "s1": "sched1", "s2": "sched2"}[name]
        return self.start(name, binary, host)

    def query(self, sql):
        """Rows of a query on the database, as lists of strings."""
        out = subprocess.run(["psql", "-qAtX", "-F", "|", self.db_url, "-c", sql], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("|") for line in out.splitlines() if line]

    def pg(self, command):
        subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), command, self.pg_dir], check=True,
                       capture_output=True)

    # -- the API, as a client under faults sees it -------------------------------------------
    def call(self, what, method, path, body=None, timeout=15):
        """One request; (status, parsed body), or (None, None) when the API was not there. The
        answer is kept for the checks of check_answers."""
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
            conn.request(method, f"/v3/{PROJECT}{path}", body=json.dumps(body) if body is not None else None,
                         headers={"X-Auth-Token": f"{USER}:{PROJECT}", "OpenStack-API-Version": "volume 3.70",
                                  "Content-Type": "application/json"})
            resp = conn.getresponse()
            text = resp.read().decode()
            conn.close()
        except (OSError, http.client.HTTPException) as e:
            with self.answers_mu:
                self.answers.append((what, None, f"no answer: {e!r}"))
            return None, None  # killed, or not started yet
        with self.answers_mu:
            self.answers.append((what, resp.status, text))
        try:
            return resp.status, (json.loads(text) if text else None)
        except ValueError:
            return resp.status, None

    def check_answers(self, allowed, api_killed=False):
        """Every answer kept since the last check: `allowed` maps a request kind to the statuses
        it may get besides 503; a 503 has Cinder's serviceUnavailable body; nothing leaks. No
        answer at all only when the API was killed meanwhile. Returns how many answers there
        were, and how many were 503."""
        with self.answers_mu:
            answers, self.answers = self.answers, []
        unavailable = 0
        for what, status, text in answers:
            if status is None:
                assert api_killed, f"{what}: {text}"
                continue
            assert not LEAKS.search(text), f"{what} answered {status} with internals: {text}"
            if status == 503:
                body = json.loads(text)
                assert list(body) == ["serviceUnavailable"] and body["serviceUnavailable"]["code"] == 503, text
                assert body["serviceUnavailable"]["message"], text
                unavailable += 1
            else:
                assert status in allowed[what], f"{what} answered {status}: {text}"
        return len(answers), unavailable


class Load:
    """A burst of creates, deletes and retypes (and reads) from threads, until stopped."""

    def __init__(self, cluster, deletes, retypes, reads=False):
        self.c = cluster
        self.stop = threading.Event()
        self.created = []  # ids of the creates the API accepted
        self.deleted = []  # ids of the volumes whose delete the API accepted
        self.threads = [threading.Thread(target=self.creates), threading.Thread(target=self.each,
                                                                                args=(deletes, self.delete)),
                        threading.Thread(target=self.each, args=(retypes, self.retype))]
        if reads:
            self.threads.append(threading.Thread(target=self.reads))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def creates(self):
        i = 0
        while not self.stop.is_set():
            code, body = self.c.call("create", "POST", "/volumes",
                                     {"volume": {"size": 1, "volume_type": ("fast", "slow")[i % 2], "name": f"f{i}"}})
            if code == 202:
                self.created.append(body["volume"]["id"])
            i += 1
            time.sleep(0.02)

    def each(self, vols, fn):
        # Spread over the burst; a request the dead API never answered is sent again.
        for v in vols:
            while not self.stop.is_set():
                if fn(v) is not None:
                    break
                time.sleep(0.1)
            time.sleep(0.05)

    def delete(self, v):
        code = self.c.call("delete", "DELETE", f"/volumes/{v['id']}")[0]
        if code == 202:
            self.deleted.append(v["id"])
        return code

    def retype(self, v):
        new = "slow" if v["type"] == "fast" else "fast"
        return self.c.call("retype", "POST", f"/volumes/{v['id']}/action",
                           {"os-retype": {"new_type": new, "migration_policy": "on-demand"}})[0]

    def reads(self):
        while not self.stop.is_set():
            self.c.call("list", "GET", "/volumes/detail")
            self.c.call("quota", "GET", f"/os-quota-sets/{PROJECT}?usage=True")
            time.sleep(0.02)


# What each request may answer besides 503 (a volume another request changed meanwhile, or
# deleted: 400 and 404, as Cinder).
ALLOWED = {"create": {202}, "delete": {202, 400, 404}, "retype": {202, 400, 404}, "list": {200}, "quota": {200}}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = FaultCluster(str(tmp_path_factory.mktemp("faults")))
    try:
        # Durable: a crash of the database loses no commit it acknowledged.
        assert c.query("SELECT current_setting('fsync'), current_setting('synchronous_commit')") == [["on", "on"]]
        c.db_sync()
        c.start_all()
        for name in ("fast", "slow"):
            code, body = c.request("POST", "/types", {"volume_type": {"name": name,
                                                                      "extra_specs": {"volume_backend_name": name}}})
            assert code == 200, body
        yield c
    finally:
        c.stop_all()


def live_rows(c):
    """Every live volume: id -> (status, host, type name, size)."""
    rows = c.query("SELECT v.id, v.status, COALESCE(v.host, ''), COALESCE(t.name, ''), v.size FROM volumes v "
                   "LEFT JOIN volume_types t ON t.id = v.volume_type_id WHERE v.deleted = 0")
    return {r[0]: (r[1], r[2], r[3], int(r[4])) for r in rows}


def prepare(c, n):
    """n new available volumes, half of each type, with data in some (a retype copies it)."""
    ids = []
    for i in range(n):
        code, body = c.request("POST", "/volumes", {"volume": {"size": 1, "volume_type": ("fast", "slow")[i % 2]}})
        assert code == 202, body
        ids.append(body["volume"]["id"])
    c.wait(lambda: all(live_rows(c)[i][0] == "available" for i in ids), 30, "the volumes to be available")
    rows = live_rows(c)
    vols = [{"id": i, "type": rows[i][2]} for i in ids]
    for v in vols[::2]:
        backend = v["type"]
        with open(os.path.join(c.tmp, BACKENDS[backend][0], "volumes", backend, f"volume-{v['id']}"), "r+b") as f:
            f.write(os.urandom(4 << 20))
    return vols


def check_invariants(c, since, what):
    """Waits (within BOUND of `since`) until nothing is in flight, quota usage is what exists,
    and rows and files match; fails with what still did not hold at the bound."""
    deadline = since + BOUND
    while True:
        failure = violation(c)
        if failure is None:
            return
        if time.time() > deadline:
            raise AssertionError(f"{BOUND} s after {what}: {failure}")
        time.sleep(0.5)


def violation(c):
    """What does not hold now (None: every invariant holds)."""
    rows = live_rows(c)
    stuck = {i: r for i, r in rows.items() if r[0] in TRANSITIONAL or r[0] == "error_deleting"}
    if stuck:
        return f"still in flight (or a delete failed): {stuck}"
    # Quota usage: what the rows hold, in total and per type, nothing reserved.
    code, body = c.request("GET", f"/os-quota-sets/{PROJECT}?usage=True")
    assert code == 200, body
    usage = body["quota_set"]
    expected = {"volumes": len(rows), "gigabytes": sum(r[3] for r in rows.values())}
    for name in ("fast", "slow"):
        expected[f"volumes_{name}"] = sum(1 for r in rows.values() if r[2] == name)
        expected[f"gigabytes_{name}"] = sum(r[3] for r in rows.values() if r[2] == name)
    got = {k: (usage[k]["in_use"], usage[k]["reserved"]) for k in expected}
    if got != {k: (v, 0) for k, v in expected.items()}:
        return f"quota usage (in_use, reserved) {got}, the rows say {expected}"
    # Rows and files: a live row's file is on its backend (a failed create may have none); a
    # backend's folder holds only the files of live rows on that backend.
    for backend, (daemon, host) in BACKENDS.items():
        folder = os.path.join(c.tmp, daemon, "volumes", backend)
        files = set(os.listdir(folder))
        mine = {i for i, r in rows.items() if r[1].startswith(f"{host}@{backend}#")}
        strays = files - {f"volume-{i}" for i in mine}
        if strays:
            ids = ", ".join(f"'{name[len('volume-'):]}'" for name in strays if name.startswith("volume-"))
            known = c.query(f"SELECT id, status, host, deleted FROM volumes WHERE id IN ({ids or 'NULL'})")
            return f"files without a row on {backend}: {strays}; their rows: {known}"
        missing = {i: rows[i][0] for i in mine if f"volume-{i}" not in files and rows[i][0] != "error"}
        if missing:
            return f"rows without their file on {backend}: {missing}"
    unplaced = {i: r for i, r in rows.items() if not r[1] and r[0] != "error"}
    if unplaced:
        return f"volumes on no backend: {unplaced}"
    return None


def check_deletes(c, load):
    """Every delete the API accepted was carried out (none failed: the file driver does not)."""
    rows = live_rows(c)
    assert {i: rows[i][0] for i in load.deleted if i in rows} == {}


def burst_with_kill(c, name, down_for):
    """Kills daemon `name` in the middle of a burst, starts it again `down_for` s later, and
    checks the invariants; returns how long they took to hold."""
    deletes, retypes = prepare(c, 12), prepare(c, 12)
    with Load(c, deletes, retypes) as load:
        time.sleep(0.5)
        c.kill9(name)
        time.sleep(down_for)
        c.restart(name)
        restarted = time.time()
        time.sleep(1.5)
    check_invariants(c, restarted, f"kill -9 of {name}")
    check_deletes(c, load)
    total, _ = c.check_answers(ALLOWED, api_killed=name == "api")
    assert total > 0
    return time.time() - restarted


@pytest.mark.parametrize("name,down_for", [("api", 1), ("s1", 1), ("v1", 0.5), ("v2", DOWN_TIME + 2)],
                         ids=["cinder-api", "cinder-scheduler", "cinder-volume-restarted-at-once",
                              "cinder-volume-seen-down"])
def test_kill_9_during_creates_deletes_and_retypes(cluster, name, down_for):
    """Each daemon killed in the middle of the burst: every volume ends in a known state within
    the bound, quota usage is what exists, rows and files match."""
    took = burst_with_kill(cluster, name, down_for)
    assert took <= BOUND


def test_database_restart_answers_503_and_services_reconnect(cluster):
    c = cluster
    deletes, retypes = prepare(c, 12), prepare(c, 12)
    c.check_answers(ALLOWED)
    with Load(c, deletes, retypes, reads=True) as load:
        time.sleep(0.5)
        c.pg("crash")
        time.sleep(DOWN_TIME + 1)  # longer than service_down_time: every heartbeat was missed
        c.pg("resume")
        resumed = time.time()
        time.sleep(1.5)
    total, unavailable = c.check_answers(ALLOWED)
    assert unavailable > 0, "no request met the outage"
    print(f"the database restart: {total} answers, {unavailable} of them 503")
    # Nobody was restarted: every daemon is the process it was.
    assert all(p.poll() is None for p in c.procs.values()), {n: p.poll() for n, p in c.procs.items()}
    check_invariants(c, resumed, "the database restart")
    # No service died: every create the API accepted was made (none failed because heartbeats
    # could not be written during the outage), every delete it accepted was carried out.
    rows = live_rows(c)
    assert {i: rows[i][0] for i in load.created if rows[i][0] != "available"} == {}
    check_deletes(c, load)
    # Everything works again: every service is up, creates land on both backends, a retype
    # copies a volume between them.
    c.wait(lambda: set(c.services().values()) == {"up"}, 10, "every service to be up")
    made = prepare(c, 4)
    rows = live_rows(c)
    assert {rows[v["id"]][1].split("@")[0] for v in made} == {"vol1", "vol2"}
    v = made[0]
    code, body = c.call("retype", "POST", f"/volumes/{v['id']}/action",
                        {"os-retype": {"new_type": "slow" if v["type"] == "fast" else "fast",
                                       "migration_policy": "on-demand"}})
    assert code == 202, body
    c.wait(lambda: live_rows(c)[v["id"]][0] == "available", 30, "the retype")
    assert live_rows(c)[v["id"]][2] != v["type"]
    c.check_answers(ALLOWED)
    check_invariants(c, time.time(), "the database restart")


def test_everything_deletes_cleanly_afterwards(cluster):
    """Whatever the faults left (error volumes included) deletes: no file, no usage remains."""
    c = cluster
    for vol_id, row in live_rows(c).items():
        code, body = c.call("delete", "DELETE", f"/volumes/{vol_id}")
        assert code == 202, (row, body)
    c.wait(lambda: not live_rows(c), BOUND, "every volume to be deleted")
    check_invariants(c, time.time(), "deleting everything")
    for backend, (daemon, _) in BACKENDS.items():
        assert os.listdir(os.path.join(c.tmp, daemon, "volumes", backend)) == []
    c.check_answers(ALLOWED)
