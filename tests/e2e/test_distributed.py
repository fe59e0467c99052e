"""The daemons on many machines, as real processes on loopback: a throwaway PostgreSQL, one
cinder-api, two cinder-scheduler and two cinder-volume hosts with different backends, talking
over ZeroMQ with the services table as their directory."""
import http.client
import json
import os
import subprocess
import time

import pytest

from conftest import BIN, PROJECT, ROOT, USER, run_cinder, table_rows

DOWN_TIME = 3  # service_down_time for the test; report_interval is 1


class Cluster:
    def __init__(self, tmp, durable=False):
        """durable: a PostgreSQL that loses no commit in a crash (fsync, synchronous_commit on)."""
        self.tmp = tmp
        self.pg_dir = os.path.join(tmp, "pg")
        env = dict(os.environ, PG_HARNESS_DURABLE="1" if durable else "0")
        subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), "start", self.pg_dir],
                       check=True, capture_output=True, env=env)
        self.db_url = open(os.path.join(self.pg_dir, "url")).read().strip()
        self.procs = {}
        self.port = None
        # The deployment's transport key, made as an operator makes it; every daemon reads it.
        self.key_file = os.path.join(tmp, "transport.key")
        subprocess.run([os.path.join(BIN, "cinder-manage"), "transport", "keygen", "--output", self.key_file],
                       check=True, capture_output=True)

    def conf(self, name, host, backend, backend_extra=""):
        path = os.path.join(self.tmp, f"{name}.conf")
        with open(path, "w") as f:
            f.write(f"""[DEFAULT]
host = {host}
state_path = {self.tmp}/{name}
osapi_volume_listen_port = 0
report_interval = 1
service_down_time = {DOWN_TIME}
transport_key_file = {self.key_file}
quota_volumes = -1
quota_gigabytes = -1
quota_snapshots = -1
enabled_backends = {backend}
[database]
connection = {self.db_url}
[{backend}]
volume_driver = file
{backend_extra}
""")
        return path

    def start(self, name, binary, host, backend="b", backend_extra=""):
        conf = self.conf(name, host, backend, backend_extra)
        # Each daemon logs to its own file (a pipe nobody reads would fill and block it).
        log_path = os.path.join(self.tmp, f"{name}.log")
        with open(log_path, "a") as log:
            start_at = log.tell()
            proc = subprocess.Popen([os.path.join(BIN, binary), "--config-file", conf],
                                    stdout=log, stderr=subprocess.STDOUT, text=True)
        # The line that says it serves (warnings of its start-up repairs may come first).
        line = ""
        deadline = time.time() + 15
        while time.time() < deadline and proc.poll() is None:
            with open(log_path) as log:
                log.seek(start_at)
                line = next((l for l in log if l.endswith("\n") and ("listening on" in l or "serving" in l)),
                            "")
            if line:
                break
            time.sleep(0.02)
        assert line, f"{binary} did not start: {open(log_path).read()[-2000:]}"
        self.procs[name] = proc
        if binary == "cinder-api":
            self.port = int(line.strip().rsplit(":", 1)[1])
        return proc

    def db_sync(self):
        subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", self.conf("manage", "m", "b"),
                        "db", "sync"], check=True)

    def kill9(self, name):
        self.procs.pop(name).kill()

    def stop_all(self):
        """SIGTERM to every daemon: each must stop cleanly (exit 0) and promptly."""
        for proc in self.procs.values():
            proc.terminate()
        codes = {}
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = "hung"
        self.procs = {}
        subprocess.run([os.path.join(ROOT, "scripts", "pg-harness.sh"), "stop", self.pg_dir])
        return codes

    def psql(self, sql):
        subprocess.run(["psql", "-q", self.db_url, "-c", sql], check=True, capture_output=True)

    def cinder(self, *args, check=True):
        return run_cinder(f"http://127.0.0.1:{self.port}", *args, check=check)

    def request(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        conn.request(method, f"/v3/{PROJECT}{path}", body=json.dumps(body) if body is not None else None,
                     headers={"X-Auth-Token": f"{USER}:{PROJECT}", "OpenStack-API-Version": "volume 3.70",
                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, (json.loads(data) if data else None)

    def volume(self, vol_id):
        code, body = self.request("GET", f"/volumes/{vol_id}")
        return body["volume"] if code == 200 else None

    def wait(self, predicate, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def services(self):
        out = self.cinder("service-list").stdout
        rows = {}
        for line in out.splitlines():
            cells = [c.strip() for c in line.strip("|").split("|")]
            if line.startswith("|") and cells[0].startswith("cinder-"):
                rows[(cells[0], cells[1])] = cells[4]  # state
        return rows


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("dist")))
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("s2", "cinder-scheduler", "sched2")
        c.start("v1", "cinder-volume", "vol1", "fast")
        c.start("v2", "cinder-volume", "vol2", "slow")
        c.start("api", "cinder-api", "apihost")
        yield c
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()


def create(cluster, n, via_client=False):
    ids = []
    for i in range(n):
        if via_client:
            out = cluster.cinder("create", "--name", f"d{i}", "1").stdout
            ids.append(next(l.split("|")[2].strip() for l in out.splitlines() if l.startswith("| id ")))
        else:
            code, body = cluster.request("POST", "/volumes", {"volume": {"size": 1}})
            assert code == 202, body
            ids.append(body["volume"]["id"])
    cluster.wait(lambda: all(cluster.volume(i)["status"] == "available" for i in ids), 30, "available")
    return [cluster.volume(i)["os-vol-host-attr:host"] for i in ids]


def test_volumes_land_on_both_hosts_and_every_service_is_up(cluster):
    states = cluster.services()
    assert states == {("cinder-scheduler", "sched1"): "up", ("cinder-scheduler", "sched2"): "up",
                      ("cinder-volume", "vol1@fast"): "up", ("cinder-volume", "vol2@slow"): "up"}
    hosts = create(cluster, 20, via_client=True)
    assert set(hosts) == {"vol1@fast#fast", "vol2@slow#slow"}
    assert os.listdir(os.path.join(cluster.tmp, "v1", "volumes", "fast"))
    assert os.listdir(os.path.join(cluster.tmp, "v2", "volumes", "slow"))


def test_a_dead_volume_host_is_noticed_and_its_stuck_work_failed(cluster):
    create(cluster, 2)
    on_v1 = None
    code, body = cluster.request("GET", "/volumes/detail")
    for v in body["volumes"]:
        if v["os-vol-host-attr:host"].startswith("vol1@") and v["status"] == "available":
            on_v1 = v["id"]
    assert on_v1
    cluster.kill9("v1")
    # Before vol1 is seen down, a create placed there is not accepted, and goes to vol2.
    start = time.time()
    assert set(create(cluster, 3)) == {"vol2@slow#slow"}
    assert time.time() - start < 15
    # A create that vol1 took just before dying: left "creating" (the crash, simulated in the DB).
    cluster.psql(f"UPDATE volumes SET status = 'creating' WHERE id = '{on_v1}'")
    cluster.wait(lambda: cluster.services()[("cinder-volume", "vol1@fast")] == "down", DOWN_TIME + 5,
                 "vol1 shown down")
    # Failed within a bounded time, with no host to ask.
    cluster.wait(lambda: cluster.volume(on_v1)["status"] == "error", 5, "the stuck volume to fail")
    # The user sees why (Cinder's DRIVER_NOT_INITIALIZED: the backend was not there).
    rows = table_rows(cluster.cinder("message-list", "--filters", f"resource_uuid={on_v1}").stdout)
    assert [(r["Event ID"], r["User Message"]) for r in rows] == [
        ("VOLUME_VOLUME_008_002", "create volume from backend storage:Driver is not initialized at present.")]
    assert set(create(cluster, 6)) == {"vol2@slow#slow"}


def test_a_volume_host_that_restarts_repairs_and_resumes(cluster):
    cluster.start("v1", "cinder-volume", "vol1", "fast")  # back from the previous test
    cluster.wait(lambda: cluster.services()[("cinder-volume", "vol1@fast")] == "up", 5, "vol1 up")
    # It gets volumes again (the most free capacity wins: here it has fewer volumes).
    assert "vol1@fast#fast" in set(create(cluster, 8))
    code, body = cluster.request("GET", "/volumes/detail")
    on_v1 = [v["id"] for v in body["volumes"] if v["os-vol-host-attr:host"].startswith("vol1@")
             and v["status"] == "available"]
    assert len(on_v1) >= 2
    path = os.path.join(cluster.tmp, "v1", "volumes", "fast", f"volume-{on_v1[0]}")
    assert os.path.exists(path)
    # vol1 dies in the middle of a delete and of an extend (simulated in the DB), and restarts
    # at once: it is never seen down, so only its own start-up repairs them.
    cluster.kill9("v1")
    cluster.psql(f"UPDATE volumes SET status = 'deleting' WHERE id = '{on_v1[0]}'")
    cluster.psql(f"UPDATE volumes SET status = 'extending' WHERE id = '{on_v1[1]}'")
    cluster.start("v1", "cinder-volume", "vol1", "fast")
    cluster.wait(lambda: cluster.volume(on_v1[0]) is None, 10, "the deletion to resume")
    assert not os.path.exists(path)
    assert cluster.volume(on_v1[1])["status"] == "error_extending"
    rows = table_rows(cluster.cinder("message-list", "--filters", f"resource_uuid={on_v1[1]}").stdout)
    assert [(r["Event ID"], r["User Message"]) for r in rows] == [
        ("VOLUME_VOLUME_007_002", "extend volume:Driver is not initialized at present.")]
    assert cluster.services()[("cinder-volume", "vol1@fast")] == "up"


def test_a_dead_scheduler_does_not_stop_creates(cluster):
    cluster.kill9("s1")
    assert len(create(cluster, 6)) == 6  # before and after sched1 is seen down
    cluster.wait(lambda: cluster.services()[("cinder-scheduler", "sched1")] == "down", DOWN_TIME + 5,
                 "sched1 shown down")
    assert len(create(cluster, 4, via_client=True)) == 4


def test_snapshots_clones_and_retype_across_hosts(cluster):
    """Snapshots and clones stay on their source's host; a retype to a type the other host
    serves copies the volume there over RPC, byte for byte, and removes the old copy."""
    for name in ("fast", "slow"):
        cluster.cinder("type-create", f"host-{name}")
        cluster.cinder("type-key", f"host-{name}", "set", f"volume_backend_name={name}")
    out = cluster.cinder("create", "--volume-type", "host-fast", "1").stdout
    vol = next(l.split("|")[2].strip() for l in out.splitlines() if l.startswith("| id "))
    cluster.wait(lambda: cluster.volume(vol)["status"] == "available", 30, "the volume")
    assert cluster.volume(vol)["os-vol-host-attr:host"] == "vol1@fast#fast"
    src = os.path.join(cluster.tmp, "v1", "volumes", "fast", f"volume-{vol}")
    data = {0: os.urandom(1 << 20), 900 << 20: os.urandom(1 << 20)}
    with open(src, "r+b") as f:
        for off, chunk in data.items():
            f.seek(off)
            f.write(chunk)

    code, body = cluster.request("POST", "/snapshots", {"snapshot": {"volume_id": vol}})
    assert code == 202, body
    snap = body["snapshot"]["id"]
    cluster.wait(lambda: cluster.request("GET", f"/snapshots/{snap}")[1]["snapshot"]["status"] == "available",
                 30, "the snapshot")
    code, body = cluster.request("POST", "/volumes", {"volume": {"snapshot_id": snap}})
    assert code == 202, body
    from_snap = body["volume"]["id"]
    cluster.wait(lambda: cluster.volume(from_snap)["status"] == "available", 30, "the volume from the snapshot")
    assert cluster.volume(from_snap)["os-vol-host-attr:host"] == "vol1@fast#fast"
    cluster.request("DELETE", f"/volumes/{from_snap}")
    cluster.request("DELETE", f"/snapshots/{snap}")
    cluster.wait(lambda: cluster.request("GET", f"/snapshots/{snap}")[0] == 404, 30, "the snapshot to go")

    code, body = cluster.request("POST", f"/volumes/{vol}/action",
                                 {"os-retype": {"new_type": "host-slow", "migration_policy": "on-demand"}})
    assert code == 202, body
    cluster.wait(lambda: cluster.volume(vol)["status"] != "retyping", 60, "the retype")
    moved = cluster.volume(vol)
    assert (moved["status"], moved["volume_type"], moved["os-vol-host-attr:host"]) == (
        "available", "host-slow", "vol2@slow#slow")
    dst = os.path.join(cluster.tmp, "v2", "volumes", "slow", f"volume-{vol}")
    with open(dst, "rb") as f:
        for off, chunk in data.items():
            f.seek(off)
            assert f.read(len(chunk)) == chunk
    assert os.stat(dst).st_size == 1 << 30
    assert os.stat(dst).st_blocks * 512 < 64 << 20  # holes stayed holes
    cluster.wait(lambda: not os.path.exists(src), 10, "the old copy to go")


def test_a_group_and_its_volumes_live_on_the_backend_its_types_allow(cluster):
    """Generic volume groups over ZeroMQ: the scheduler places the group on the one backend
    its volume type allows, the volume host there makes it available, a volume made in it goes
    to that backend, and a delete with delete-volumes removes the volume's file there."""
    cluster.cinder("type-create", "grp-slow")
    cluster.cinder("type-key", "grp-slow", "set", "volume_backend_name=slow")
    cluster.cinder("--os-volume-api-version", "3.11", "group-type-create", "grp-dist")
    out = cluster.cinder("--os-volume-api-version", "3.13", "group-create", "grp-dist", "grp-slow").stdout
    group = next(l.split("|")[2].strip() for l in out.splitlines() if l.startswith("| id "))

    def group_status():
        code, body = cluster.request("GET", f"/groups/{group}")
        return body["group"]["status"] if code == 200 else "deleted"

    cluster.wait(lambda: group_status() == "available", 30, "the group")
    code, body = cluster.request("POST", "/volumes",
                                 {"volume": {"size": 1, "group_id": group, "volume_type": "grp-slow"}})
    assert code == 202, body
    vol = body["volume"]["id"]
    cluster.wait(lambda: cluster.volume(vol)["status"] == "available", 30, "the volume in the group")
    assert cluster.volume(vol)["os-vol-host-attr:host"] == "vol2@slow#slow"
    assert cluster.volume(vol)["group_id"] == group
    path = os.path.join(cluster.tmp, "v2", "volumes", "slow", f"volume-{vol}")
    assert os.path.exists(path)
    cluster.cinder("--os-volume-api-version", "3.13", "group-delete", "--delete-volumes", group)
    cluster.wait(lambda: group_status() == "deleted", 30, "the group to go")
    assert cluster.volume(vol) is None and not os.path.exists(path)


def test_a_group_snapshot_and_groups_made_from_it_over_zeromq(cluster):
    """Group snapshots (3.14) over ZeroMQ on PostgreSQL: the group's volume host takes the group
    snapshot, a group made from it and a group cloned from the source are made on that host, and
    the deletes remove their files there."""
    v314 = ("--os-volume-api-version", "3.14")
    cluster.cinder("type-create", "gs-slow")
    cluster.cinder("type-key", "gs-slow", "set", "volume_backend_name=slow")
    cluster.cinder("--os-volume-api-version", "3.11", "group-type-create", "gs-dist")

    def made_id(out):
        return next(l.split("|")[2].strip() for l in out.splitlines() if l.startswith("| id "))

    def status(kind, ident):
        code, body = cluster.request("GET", f"/{kind}s/{ident}")
        return body[kind]["status"] if code == 200 else "deleted"

    group = made_id(cluster.cinder(*v314, "group-create", "gs-dist", "gs-slow").stdout)
    cluster.wait(lambda: status("group", group) == "available", 30, "the group")
    vols = []
    for _ in range(2):
        code, body = cluster.request("POST", "/volumes",
                                     {"volume": {"size": 1, "group_id": group, "volume_type": "gs-slow"}})
        assert code == 202, body
        vols.append(body["volume"]["id"])
    cluster.wait(lambda: all(cluster.volume(v)["status"] == "available" for v in vols), 30, "the volumes")
    gs = made_id(cluster.cinder(*v314, "group-snapshot-create", group).stdout)
    cluster.wait(lambda: status("group_snapshot", gs) == "available", 30, "the group snapshot")
    code, body = cluster.request("GET", "/snapshots/detail")
    snaps = [s["id"] for s in body["snapshots"] if s.get("group_snapshot_id") == gs]
    assert len(snaps) == 2
    slow = os.path.join(cluster.tmp, "v2", "volumes", "slow")
    assert all(os.path.exists(os.path.join(slow, f"snapshot-{s}")) for s in snaps)
    made = []
    for args in (("--group-snapshot", gs), ("--source-group", group)):
        made.append(made_id(cluster.cinder(*v314, "group-create-from-src", *args).stdout))
    cluster.wait(lambda: all(status("group", g) == "available" for g in made), 30, "the groups from sources")
    for g in made:
        code, body = cluster.request("GET", f"/volumes?group_id={g}")
        assert len(body["volumes"]) == 2
        for v in body["volumes"]:
            assert cluster.volume(v["id"])["os-vol-host-attr:host"] == "vol2@slow#slow"
        cluster.cinder(*v314, "group-delete", "--delete-volumes", g)
    cluster.wait(lambda: all(status("group", g) == "deleted" for g in made), 30, "the groups from sources to go")
    cluster.cinder(*v314, "group-snapshot-delete", gs)
    cluster.wait(lambda: status("group_snapshot", gs) == "deleted", 30, "the group snapshot to go")
    assert not any(os.path.exists(os.path.join(slow, f"snapshot-{s}")) for s in snaps)
    cluster.cinder(*v314, "group-delete", "--delete-volumes", group)
    cluster.wait(lambda: status("group", group) == "deleted", 30, "the group to go")
