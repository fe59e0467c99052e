"""Operations that change a volume race by one compare-and-swap on its status.

Every pair of {extend, retype, migrate, snapshot, delete, transfer, accept, revert, force-delete,
reset-status, attach}, each operation with itself too, is fired at one volume at the same instant, 64 times
(rounds run on many volumes at once). After each round, once every volume has settled (none may
stay in a transitional status):
- at least one of the two wins (202); a loser is refused with 400, 404 or 409, never a 5xx;
- the winners are a set that some serial order of them allows, and the volume ends as that order
  leaves it (so two that cannot both happen never both win: exactly one of two retypes, two
  transfers, a delete and a snapshot, ...). The admin overrides (force-delete, reset-status) may
  cut short an operation in flight, whose effect is then lost;
- both projects' quota usage (volumes, gigabytes, snapshots, and per type) equals what exists,
  with nothing reserved.
The matrix runs twice: on cinder-all with SQLite, and on PostgreSQL with two cinder-api
processes (the two requests of a pair go to different ones), a cinder-scheduler and two
cinder-volume hosts over ZeroMQ, where a migration pulls the volume from the other host.
"""
import concurrent.futures
import http.client
import itertools
import json
import os
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BIN, PROJECT, ROOT, USER, start_service, stop_service

OTHER = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"  # the project a transfer goes to

ROUNDS = int(os.environ.get("CINDER_RACE_ROUNDS", "64"))
PARALLEL = 32  # rounds in flight at once, each on its own volume

OPS = ("extend", "retype", "migrate", "snapshot", "delete", "transfer", "accept", "revert", "force_delete",
       "reset_status", "attach")
PAIRS = [(a, b) for i, a in enumerate(OPS) for b in OPS[i:]]

BACKENDS = {
    "fast": "volume_driver = file\nvolume_backend_name = fast\n",
    "slow": "volume_driver = file\nvolume_backend_name = slow\n",
}
# gold and silver live on the fast backend, bronze on the slow one: a retype to silver stays in
# place (policy "never"), one to bronze migrates the volume (policy "on-demand").
TYPES = {"gold": "fast", "silver": "fast", "bronze": "slow"}
TRANSITIONAL = {"creating", "extending", "retyping", "deleting", "reverting", "downloading", "uploading",
                "attaching", "detaching", "maintenance", "restoring-backup", "backing-up"}
SNAPSHOT_TRANSITIONAL = {"creating", "deleting", "restoring", "unmanaging", "backing-up"}


class Deployment:
    """What the rounds run against: its API endpoints, (host, port) each, and its database."""

    def __init__(self, apis, query, volume_dir, remote_copy):
        self.apis = apis
        self.query = query  # SQL -> rows (tuples)
        self.volume_dir = volume_dir  # backend name -> the folder of its volume files
        self.remote_copy = remote_copy  # a migration pulls the data over RPC from another host


def sqlite_deployment(tmp):
    proc, s = start_service(tmp, backends=BACKENDS)

    def query(sql):
        con = sqlite3.connect(s.db_path, timeout=10)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    return (Deployment([(s.host, s.port)], query, lambda backend: os.path.join(s.state, "volumes", backend), False),
            lambda: stop_service(proc))


def postgresql_deployment(tmp):
    """A throwaway PostgreSQL; two cinder-api, one cinder-scheduler, and a cinder-volume host for
    each backend (vol1@fast, vol2@slow), over ZeroMQ with the deployment's transport key."""
    pg_dir = os.path.join(tmp, "pg")
    harness = os.path.join(ROOT, "scripts", "pg-harness.sh")
    subprocess.run([harness, "start", pg_dir], check=True, capture_output=True)
    url = open(os.path.join(pg_dir, "url")).read().strip()
    key = os.path.join(tmp, "transport.key")
    procs = []

    def stop():
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run([harness, "stop", pg_dir], capture_output=True)

    def conf(name, host, backend):
        path = os.path.join(tmp, f"{name}.conf")
        with open(path, "w") as f:
            f.write(f"[DEFAULT]\nhost = {host}\nstate_path = {tmp}/{name}\nosapi_volume_listen = 127.0.0.1\n"
                    f"osapi_volume_listen_port = 0\nreport_interval = 1\ntransport_key_file = {key}\n"
                    f"enabled_backends = {backend}\n[database]\nconnection = {url}\n[{backend}]\n"
                    f"{BACKENDS.get(backend, 'volume_driver = file')}\n")
        return path

    def start(name, binary, host, backend="fast"):
        log_path = os.path.join(tmp, f"{name}.log")
        with open(log_path, "w") as log:
            proc = subprocess.Popen([os.path.join(BIN, binary), "--config-file", conf(name, host, backend)],
                                    stdout=log, stderr=subprocess.STDOUT, text=True)
        procs.append(proc)
        line = wait_until(f"{binary} started", lambda: open(log_path).readline() if proc.poll() is None else "!",
                          timeout=15)
        assert "listening on" in line or "serving" in line, f"{binary} did not start: {line}"
        return line.strip()

    try:
        subprocess.run([os.path.join(BIN, "cinder-manage"), "transport", "keygen", "--output", key],
                       check=True, capture_output=True)
        subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf("manage", "m", "fast"),
                        "db", "sync"], check=True, capture_output=True)
        start("scheduler", "cinder-scheduler", "sched1")
        start("fast", "cinder-volume", "vol1", "fast")
        start("slow", "cinder-volume", "vol2", "slow")
        apis = [("127.0.0.1", int(start(f"api{i}", "cinder-api", f"apihost{i}").rsplit(":", 1)[1]))
                for i in (1, 2)]
    except BaseException:
        stop()
        raise

    def query(sql):
        out = subprocess.run(["psql", "-qAt", "-F", "\t", url, "-c", sql], check=True, capture_output=True,
                             text=True).stdout
        return [tuple(int(c) if c.isdigit() else c for c in line.split("\t")) for line in out.splitlines()]

    # Each backend's host has a state folder of its own, named after it.
    return Deployment(apis, query, lambda backend: os.path.join(tmp, backend, "volumes", backend), True), stop


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def svc(request, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp(f"races-{request.param}"))
    s, stop = (sqlite_deployment if request.param == "sqlite" else postgresql_deployment)(tmp)
    try:
        # The scheduler knows both backends' pools before the first create.
        wait_until("both backends reported their pools", lambda: len(
            (call(s, "GET", "/scheduler-stats/get_pools")[1] or {}).get("pools", [])) == 2)
        for name, backend in TYPES.items():
            code, body = call(s, "POST", "/types", {
                "volume_type": {"name": name, "extra_specs": {"volume_backend_name": backend}}})
            assert code == 200, body
        for project in (PROJECT, OTHER):
            code, body = call(s, "PUT", f"/os-quota-sets/{project}", {
                "quota_set": {"volumes": -1, "gigabytes": -1, "snapshots": -1}})
            assert code == 200, body
        yield s
    finally:
        stop()


# -- HTTP -----------------------------------------------------------------------------------

def call(svc, method, path, body=None, project=PROJECT, user=USER, barrier=None, api=0):
    """One request to API endpoint `api` on a connection of its own; with `barrier`, sent when the
    other side is ready too (the connection is open by then, so that both arrive together)."""
    host, port = svc.apis[api % len(svc.apis)]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.connect()
    headers = {"X-Auth-Token": f"{user}:{project}", "Content-Type": "application/json",
               "Accept": "application/json", "OpenStack-API-Version": "volume 3.70"}
    if barrier is not None:
        barrier.wait(timeout=30)
    conn.request(method, f"/v3/{project}{path}", body=json.dumps(body) if body is not None else None,
                 headers=headers)
    resp = conn.getresponse()
    text = resp.read().decode()
    conn.close()
    return resp.status, json.loads(text) if text else None


def in_parallel(fn, items, workers=PARALLEL):
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        return list(ex.map(fn, items))


def wait_until(what, predicate, timeout=30):
    deadline = time.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.time() > deadline:
            raise AssertionError(f"{what} within {timeout} s")
        time.sleep(0.02)


def volumes_now(svc):
    code, body = call(svc, "GET", "/volumes/detail?all_tenants=1&limit=1000")
    assert code == 200, body
    return {v["id"]: v for v in body["volumes"]}


def snapshots_now(svc):
    code, body = call(svc, "GET", "/snapshots/detail?all_tenants=1&limit=1000")
    assert code == 200, body
    return body["snapshots"]


# -- one round ------------------------------------------------------------------------------

class Round:
    def __init__(self, vol):
        self.vol = vol
        self.snapshot = None  # the snapshot a revert goes back to
        self.transfer = None  # (id, auth_key) an accept takes
        self.codes = [None, None]
        self.bodies = [None, None]


def prepare(svc, pair, n):
    """n volumes (gold, 1 GB, available); with a snapshot when a revert is in the pair, offered
    for transfer when an accept is."""
    def one(_):
        code, body = call(svc, "POST", "/volumes", {"volume": {"size": 1, "volume_type": "gold"}})
        assert code == 202, body
        return Round(body["volume"]["id"])

    rounds = in_parallel(one, range(n))
    ids = {r.vol for r in rounds}
    wait_until("the volumes became available",
               lambda: all(volumes_now(svc).get(i, {}).get("status") == "available" for i in ids))
    if "revert" in pair:
        def snap(r):
            code, body = call(svc, "POST", "/snapshots", {"snapshot": {"volume_id": r.vol}})
            assert code == 202, body
            r.snapshot = body["snapshot"]["id"]

        in_parallel(snap, rounds)
        wanted = {r.snapshot for r in rounds}
        wait_until("the snapshots became available",
                   lambda: wanted <= {s["id"] for s in snapshots_now(svc) if s["status"] == "available"})
    if "accept" in pair:
        def offer(r):
            code, body = call(svc, "POST", "/volume-transfers", {"transfer": {"volume_id": r.vol}})
            assert code == 202, body
            r.transfer = (body["transfer"]["id"], body["transfer"]["auth_key"])

        in_parallel(offer, rounds)
    return rounds


def request_of(op, i, r):
    """(method, path, body, project) of operation `op`, the i-th of its pair, on round r."""
    action = f"/volumes/{r.vol}/action"
    # With a snapshot there, a delete must cascade (it is refused otherwise).
    cascade = r.snapshot is not None
    if op == "extend":
        return "POST", action, {"os-extend": {"new_size": 2 + i}}, PROJECT
    if op == "retype":
        return "POST", action, {"os-retype": {"new_type": "silver", "migration_policy": "never"}}, PROJECT
    if op == "migrate":
        return "POST", action, {"os-retype": {"new_type": "bronze", "migration_policy": "on-demand"}}, PROJECT
    if op == "snapshot":
        return "POST", "/snapshots", {"snapshot": {"volume_id": r.vol}}, PROJECT
    if op == "delete":
        return "DELETE", f"/volumes/{r.vol}" + ("?cascade=true" if cascade else ""), None, PROJECT
    if op == "transfer":
        return "POST", "/volume-transfers", {"transfer": {"volume_id": r.vol}}, PROJECT
    if op == "accept":
        return "POST", f"/volume-transfers/{r.transfer[0]}/accept", {"accept": {"auth_key": r.transfer[1]}}, OTHER
    if op == "revert":
        return "POST", action, {"revert": {"snapshot_id": r.snapshot}}, PROJECT
    if op == "force_delete":
        if cascade:
            return "DELETE", f"/volumes/{r.vol}?cascade=true&force=true", None, PROJECT
        return "POST", action, {"os-force_delete": {}}, PROJECT
    if op == "reset_status":
        return "POST", action, {"os-reset_status": {"status": "available"}}, PROJECT
    if op == "attach":  # an attachment reserved for an instance (3.27): the volume is "reserved"
        return "POST", "/attachments", {"attachment": {"volume_uuid": r.vol,
                                                       "instance_uuid": str(uuid.uuid4())}}, PROJECT
    raise AssertionError(op)


def fire(svc, pair, rounds):
    """Both operations of the pair at each round's volume, at the same instant."""
    barriers = [threading.Barrier(2) for _ in rounds]

    def one(job):
        k, i = job
        method, path, body, project = request_of(pair[i], i, rounds[k])
        user = USER if project == PROJECT else "other-user"
        code, answer = call(svc, method, path, body, project=project, user=user, barrier=barriers[k], api=i)
        if pair[i] == "attach" and code == 200:
            code = 202  # an attachment is created at once (200), the others accepted (202)
        rounds[k].codes[i], rounds[k].bodies[i] = code, answer

    in_parallel(one, [(k, i) for k in range(len(rounds)) for i in (0, 1)], workers=2 * len(rounds))


def settle(svc, rounds):
    """Waits until no volume of these rounds, and none of their snapshots, is in a transitional
    status (a status that stays is a stuck one); returns the volumes and snapshots then."""
    ids = {r.vol for r in rounds}

    def settled():
        vols = volumes_now(svc)
        snaps = snapshots_now(svc)
        busy = [(i, v["status"]) for i, v in vols.items() if i in ids and v["status"] in TRANSITIONAL]
        busy += [(s["id"], s["status"]) for s in snaps
                 if s["volume_id"] in ids and s["status"] in SNAPSHOT_TRANSITIONAL]
        settled.busy = busy
        return None if busy else (vols, snaps)

    try:
        return wait_until("every volume and snapshot left its transitional status", settled)
    except AssertionError as e:
        raise AssertionError(f"{e}: stuck {settled.busy}") from None


# -- what a serial order of the winners leaves --------------------------------------------

# Operations whose work continues on the volume's host after the answer: an admin override
# (reset-status) that wins meanwhile may cut them short.
IN_FLIGHT = {"extend", "retype", "migrate", "delete", "revert", "force_delete"}


def initial_state(r):
    return {"exists": True, "deleting": False, "project": PROJECT, "size": 1, "type": "gold", "backend": "fast",
            "snapshots": 1 if r.snapshot else 0, "latest_is_first": True,
            "status": "awaiting-transfer" if r.transfer else "available", "offer_open": r.transfer is not None}


def apply(op, i, st, cascade):
    """The state after `op` (the i-th of its pair) when it runs alone on state `st`; None when it
    would be refused there."""
    if not st["exists"] and not (op == "force_delete" and st["deleting"]):
        return None  # gone; a force-delete goes again at a volume still being deleted (as Cinder's)
    st = dict(st)
    available = st["status"] == "available"
    if op == "extend":
        if not available or 2 + i <= st["size"]:
            return None
        st["size"] = 2 + i
    elif op == "retype":
        if not available or st["type"] == "silver":
            return None
        if st["backend"] == "fast":  # silver is on fast only; "never" does not move the volume
            st["type"] = "silver"
    elif op == "migrate":
        if not available or st["type"] == "bronze":
            return None
        if st["snapshots"] == 0:  # a volume with snapshots is not migrated (accepted, then fails)
            st["type"], st["backend"] = "bronze", "slow"
    elif op == "snapshot":
        if not available:
            return None
        st["snapshots"] += 1
        st["latest_is_first"] = False
    elif op == "delete":
        if not available or (st["snapshots"] and not cascade):
            return None
        st["exists"], st["deleting"] = False, True
    elif op == "transfer":
        if not available:
            return None
        st["status"] = "awaiting-transfer"
    elif op == "accept":
        if st["status"] != "awaiting-transfer" or not st["offer_open"]:
            return None
        st["project"], st["status"], st["offer_open"] = OTHER, "available", False
    elif op == "revert":
        if not available or not st["snapshots"] or not st["latest_is_first"] or st["size"] != 1:
            return None
    elif op == "force_delete":
        if st["snapshots"] and not cascade:
            return None
        st["exists"], st["deleting"] = False, True
    elif op == "reset_status":
        st["status"] = "available"
    elif op == "attach":
        if not available:
            return None
        st["status"] = "reserved"
    return st


def possible_outcomes(pair, winners, r):
    """Every end state that a serial order of the winners allows (an in-flight operation cut
    short by a reset-status that won after it counts as not having happened)."""
    cascade = r.snapshot is not None
    out = []
    for order in itertools.permutations(winners):
        st = initial_state(r)
        for i in order:
            st = apply(pair[i], i, st, cascade)
            if st is None:
                break
        if st is not None:
            out.append(st)
    if len(winners) == 2 and "reset_status" in pair:
        for i in winners:
            if pair[i] in IN_FLIGHT and apply(pair[i], i, initial_state(r), cascade) is not None:
                st = apply("reset_status", 1 - i, initial_state(r), cascade)
                if st is not None:
                    out.append(st)
    return out


def observed_state(r, vols, snaps):
    v = vols.get(r.vol)
    if v is None:
        return {"exists": False}
    return {"exists": True, "project": v["os-vol-tenant-attr:tenant_id"], "size": v["size"],
            "type": v["volume_type"], "backend": v["os-vol-host-attr:host"].split("@")[1].split("#")[0],
            "snapshots": sum(1 for s in snaps if s["volume_id"] == r.vol), "status": v["status"]}


def check_round(pair, r, vols, snaps):
    where = f"{pair} on volume {r.vol}: answers {r.codes} {r.bodies}"
    for code in r.codes:
        assert code in (202, 400, 404, 409), where
    winners = [i for i in (0, 1) if r.codes[i] == 202]
    assert winners, f"neither won: {where}"
    outcomes = possible_outcomes(pair, winners, r)
    assert outcomes, f"both won, but no serial order allows both: {where}"
    seen = observed_state(r, vols, snaps)
    keys = seen.keys()
    assert any({k: o.get(k) for k in keys} == seen for o in outcomes), \
        f"ended as {seen}, not as any serial order of the winners leaves it {outcomes}: {where}"


# -- quota usage ----------------------------------------------------------------------------

def existing(svc):
    """What each project has, per quota resource, read from the database."""
    want = {p: {} for p in (PROJECT, OTHER)}

    def add(project, resource, n):
        if project in want:
            want[project][resource] = want[project].get(resource, 0) + n

    vols = svc.query("SELECT v.project_id, t.name, v.size FROM volumes v LEFT JOIN volume_types t "
                     "ON t.id = v.volume_type_id WHERE v.deleted = 0")
    snaps = svc.query("SELECT s.project_id, t.name, s.volume_size FROM snapshots s LEFT JOIN volume_types t "
                      "ON t.id = s.volume_type_id WHERE s.deleted = 0 AND s.use_quota = 1")
    for project, type_name, size in vols:
        for suffix in ("", "_" + type_name) if type_name else ("",):
            add(project, "volumes" + suffix, 1)
            add(project, "gigabytes" + suffix, size)
    for project, type_name, size in snaps:
        for suffix in ("", "_" + type_name) if type_name else ("",):
            add(project, "snapshots" + suffix, 1)
            add(project, "gigabytes" + suffix, size)
    return want


def check_usage(svc, context):
    want = existing(svc)
    for project in (PROJECT, OTHER):
        code, body = call(svc, "GET", f"/os-quota-sets/{project}?usage=True")
        assert code == 200, body
        got = {k: (v["in_use"], v["reserved"]) for k, v in body["quota_set"].items() if isinstance(v, dict)}
        for resource in ["volumes", "gigabytes", "snapshots"] + [
                f"{what}_{t}" for t in TYPES for what in ("volumes", "gigabytes", "snapshots")]:
            assert got[resource] == (want[project].get(resource, 0), 0), \
                (context, project, resource, got[resource], want[project].get(resource, 0))
        assert all(reserved == 0 for _, reserved in got.values()), (context, project, got)


def clean_up(svc, rounds):
    ids = [r.vol for r in rounds]

    def remove(vol):
        code, body = call(svc, "DELETE", f"/volumes/{vol}?cascade=true&force=true")
        assert code in (202, 404), body

    in_parallel(remove, ids)
    wait_until("the volumes were deleted", lambda: not set(ids) & set(volumes_now(svc)))


@pytest.mark.parametrize("pair", PAIRS, ids="-".join)
def test_two_concurrent_operations_on_a_volume(svc, pair):
    for start in range(0, ROUNDS, PARALLEL):
        rounds = prepare(svc, pair, min(PARALLEL, ROUNDS - start))
        try:
            fire(svc, pair, rounds)
            vols, snaps = settle(svc, rounds)
            for r in rounds:
                check_round(pair, r, vols, snaps)
            check_usage(svc, f"{pair}, after rounds {start}-{start + len(rounds) - 1}")
        finally:
            clean_up(svc, rounds)
    # Everything deleted: nothing used, nothing reserved.
    check_usage(svc, f"{pair}, all deleted")


def test_an_operation_cut_short_does_not_finish_the_one_after_it(svc):
    """A reset-status ends a migration while its copy runs (its reservations go back) and a
    second migration of the volume starts: when the first copy is done, it may not commit in
    the second one's place (which would move the volume with neither's quota), whatever becomes
    of the second."""
    rounds = prepare(svc, ("migrate",), 1)
    vol = rounds[0].vol
    try:
        # Enough data that the copy is still running while the two requests below are answered
        # (a copy pulled over RPC from another host takes longer for the same data).
        block = os.urandom(1 << 20)
        with open(os.path.join(svc.volume_dir("fast"), f"volume-{vol}"), "r+b") as f:
            for _ in range(64 if svc.remote_copy else 768):
                f.write(block)
        migrate = {"os-retype": {"new_type": "bronze", "migration_policy": "on-demand"}}
        assert call(svc, "POST", f"/volumes/{vol}/action", migrate)[0] == 202
        code, body = call(svc, "POST", f"/volumes/{vol}/action", {"os-reset_status": {"status": "available"}})
        assert code == 202, body
        code, body = call(svc, "POST", f"/volumes/{vol}/action", migrate, api=1)
        assert code == 202, f"the first migration was over before the reset: {body}"
        vols, _ = settle(svc, rounds)
        v = vols[vol]
        assert v["status"] == "available", v
        backend = v["os-vol-host-attr:host"].split("@")[1].split("#")[0]
        assert (v["volume_type"], backend) in (("gold", "fast"), ("bronze", "slow")), v
        assert os.path.exists(os.path.join(svc.volume_dir(backend), f"volume-{vol}")), v
        check_usage(svc, "after a migration cut short")
    finally:
        clean_up(svc, rounds)
    check_usage(svc, "all deleted")
