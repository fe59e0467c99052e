"""os-migrate_volume (admin) through the stock client: `cinder migrate VOL HOST` copies the
volume to another backend byte for byte (migration_status "migrating", then "success", the host
changed, the old copy removed); Cinder's refusals for a volume that may not move or a
destination that is not an available service."""
import os
import sqlite3
import time

import pytest

from conftest import start_service, stop_service, table_rows

MiB = 1024 ** 2

BACKENDS = {
    "fast": "volume_driver = file\nvolume_backend_name = fast\n",
    "slow": "volume_driver = file\nvolume_backend_name = slow\n",
}


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    proc, s = start_service(tmp_path_factory.mktemp("migrate"), backends=BACKENDS)
    s.cinder("type-create", "on-fast")
    s.cinder("type-key", "on-fast", "set", "volume_backend_name=fast")
    yield s
    stop_service(proc)


def volume(svc, vol_id):
    return svc.request("GET", svc.url(f"/volumes/{vol_id}"))[1]["volume"]


def wait_migrated(svc, vol_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = volume(svc, vol_id)
        if v["migration_status"] in ("success", "error") and v["status"] != "maintenance":
            return v
        time.sleep(0.05)
    raise AssertionError(f"volume {vol_id} did not finish migrating")


def file_of(svc, vol):
    backend = vol["os-vol-host-attr:host"].split("@")[1].split("#")[0]
    return os.path.join(svc.state, "volumes", backend, f"volume-{vol['id']}")


def refused_by(svc, *args):
    """What `cinder ARGS` printed (the client's migrate reports a refusal and exits 0)."""
    res = svc.cinder(*args, check=False)
    return res.stdout + res.stderr


def new_volume(svc):
    vol_id = svc.cinder_table("create", "--volume-type", "on-fast", "1")["id"]
    svc.wait_status(vol_id, {"available"})
    return vol_id, volume(svc, vol_id)


def test_migrate_moves_the_data(svc):
    vol_id, vol = new_volume(svc)
    host = vol["os-vol-host-attr:host"]
    assert host.endswith("@fast#fast")
    src = file_of(svc, vol)
    chunks = {0: os.urandom(MiB), 700 * MiB: os.urandom(MiB)}
    with open(src, "r+b") as f:
        for off, data in chunks.items():
            f.seek(off)
            f.write(data)
    dest = host.replace("@fast#fast", "@slow#slow")
    svc.cinder("migrate", "--force-host-copy", "True", vol_id, dest)
    moved = wait_migrated(svc, vol_id)
    assert moved["migration_status"] == "success" and moved["status"] == "available"
    assert moved["os-vol-host-attr:host"] == dest and moved["volume_type"] == "on-fast"
    dst = file_of(svc, moved)
    assert os.stat(dst).st_size == 1024 * MiB
    with open(dst, "rb") as f:
        for off, data in chunks.items():
            f.seek(off)
            assert f.read(MiB) == data
        f.seek(300 * MiB)
        assert f.read(MiB) == bytes(MiB)
    assert not os.path.exists(src)
    # And back, to a host@backend (its pool found from the backend's report), locked.
    svc.cinder("migrate", "--lock-volume", "True", vol_id, host.split("#")[0])
    back = wait_migrated(svc, vol_id)
    assert back["migration_status"] == "success" and back["os-vol-host-attr:host"] == host
    assert not os.path.exists(dst) and os.path.exists(src)
    svc.cinder("delete", vol_id)
    svc.wait_status(vol_id, {"deleted"})


def test_migrate_refusals(svc):
    vol_id, vol = new_volume(svc)
    host = vol["os-vol-host-attr:host"]
    other = host.replace("@fast#fast", "@slow#slow")
    before = svc.db_snapshot()
    refused = (f"Invalid volume: Volume {vol_id} status must be available or in-use, must not be migrating, "
               "have snapshots, be replicated, be part of a group and destination host/cluster must be different "
               "than the current one")
    # The host it is on.
    out = refused_by(svc, "migrate", vol_id, host)
    assert refused + " (HTTP 400)" in out
    # No such service.
    out = refused_by(svc, "migrate", vol_id, "nowhere@none#none")
    assert "Invalid host: No available service named 'nowhere@none#none' (HTTP 400)" in out
    url = svc.url(f"/volumes/{vol_id}/action")
    # Schema: host required before 3.16; one of host and cluster from 3.16; booleans.
    code, body, _ = svc.request("POST", url, {"os-migrate_volume": {}}, version="volume 3.15")
    assert code == 400 and "'host' is a required property" in body["badRequest"]["message"]
    code, body, _ = svc.request("POST", url, {"os-migrate_volume": {}})
    assert code == 400
    assert body["badRequest"]["message"] == "Invalid input received: One and only one of cluster and host must be set."
    code, body, _ = svc.request("POST", url, {"os-migrate_volume": {"host": other, "cluster": "c"}})
    assert code == 400 and "One and only one of cluster and host must be set." in body["badRequest"]["message"]
    code, body, _ = svc.request("POST", url, {"os-migrate_volume": {"host": other, "lock_volume": "maybe"}})
    assert code == 400 and "lock_volume" in body["badRequest"]["message"]
    code, body, _ = svc.request("POST", url, {"os-migrate_volume": {"host": other, "foo": 1}})
    assert code == 400 and "Additional properties are not allowed ('foo' was unexpected)" in body["badRequest"]["message"]
    code, body, _ = svc.request("POST", url, {"os-migrate_volume": {"cluster": "somewhere"}})
    assert code == 400 and "No available service named 'somewhere'" in body["badRequest"]["message"]
    # A disabled destination.
    svc.cinder("service-disable", other.split("#")[0], "cinder-volume")
    assert f"Invalid host: No available service named '{other}'" in refused_by(svc, "migrate", vol_id, other)
    svc.cinder("service-enable", other.split("#")[0], "cinder-volume")
    # Not available.
    svc.cinder("reset-state", "--state", "error", vol_id)
    assert refused + " (HTTP 400)" in refused_by(svc, "migrate", vol_id, other)
    svc.cinder("reset-state", "--state", "available", vol_id)
    # Already migrating.
    svc.cinder("reset-state", "--reset-migration-status", vol_id)
    code, _, _ = svc.request("POST", url, {"os-reset_status": {"migration_status": "migrating"}})
    assert code == 202
    assert refused in refused_by(svc, "migrate", vol_id, other)
    code, _, _ = svc.request("POST", url, {"os-reset_status": {"migration_status": "none"}})
    assert code == 202
    # With a snapshot.
    snap = svc.cinder_table("snapshot-create", vol_id)["id"]
    svc.wait_snapshot(snap, {"available"})
    assert refused in refused_by(svc, "migrate", vol_id, other)
    svc.cinder("snapshot-delete", snap)
    svc.wait_snapshot(snap, {"deleted"})
    v = volume(svc, vol_id)
    assert v["os-vol-host-attr:host"] == host and v["status"] == "available" and v["migration_status"] is None
    # A volume of a group (3.13).
    v313 = ("--os-volume-api-version", "3.13")
    svc.cinder("--os-volume-api-version", "3.11", "group-type-create", "mig-gt")
    group_id = svc.cinder_table(*v313, "group-create", "mig-gt", "on-fast", "--name", "mig-g")["id"]
    deadline = time.time() + 30
    while svc.request("GET", svc.url(f"/groups/{group_id}"), version="volume 3.13")[1]["group"]["status"] != "available":
        assert time.time() < deadline, "the group did not become available"
        time.sleep(0.05)
    grouped = svc.cinder_table(*v313, "create", "--group-id", group_id, "--volume-type", "on-fast", "1")["id"]
    svc.wait_status(grouped, {"available"})
    grouped_refused = refused.replace(vol_id, grouped)
    assert grouped_refused + " (HTTP 400)" in refused_by(svc, "migrate", grouped, other)
    assert volume(svc, grouped)["migration_status"] is None
    svc.cinder(*v313, "group-delete", "--delete-volumes", group_id)
    svc.wait_status(grouped, {"deleted"})
    # Another project's (or no) volume: 404.
    code, _, _ = svc.request("POST", svc.url("/volumes/00000000-0000-0000-0000-000000000000/action"),
                             {"os-migrate_volume": {"host": other}})
    assert code == 404
    rows, files = svc.db_snapshot()
    assert files == before[1]
    svc.cinder("delete", vol_id)
    svc.wait_status(vol_id, {"deleted"})


def test_migrate_of_an_attached_volume_fails_on_its_host(svc):
    """An attached volume cannot move here (no Nova to swap it): the request is taken, the
    volume stays in-use where it is, migration_status "error"."""
    vol_id, vol = new_volume(svc)
    host = vol["os-vol-host-attr:host"]
    code, _, _ = svc.request("POST", svc.url(f"/volumes/{vol_id}/action"),
                             {"os-attach": {"instance_uuid": "11111111-2222-3333-4444-555555555555",
                                            "mountpoint": "/dev/vdb"}})
    assert code == 202
    svc.wait_status(vol_id, {"in-use"})
    svc.cinder("migrate", vol_id, host.replace("@fast#fast", "@slow#slow"))
    v = wait_migrated(svc, vol_id)
    assert v["migration_status"] == "error" and v["status"] == "in-use" and v["os-vol-host-attr:host"] == host
    svc.cinder("reset-state", "--attach-status", "detached", "--state", "available", vol_id)
    svc.cinder("delete", vol_id)
    svc.wait_status(vol_id, {"deleted"})


# -- os-migrate_volume_completion ------------------------------------------------------------------

INSTANCE = "11111111-2222-3333-4444-555555555555"


def complete(svc, vol_id, body):
    return svc.request("POST", svc.url(f"/volumes/{vol_id}/action"), {"os-migrate_volume_completion": body})


def legacy_attach(svc, vol_id, instance=INSTANCE, mountpoint="/dev/vdb"):
    code, _, _ = svc.request("POST", svc.url(f"/volumes/{vol_id}/action"),
                             {"os-attach": {"instance_uuid": instance, "mountpoint": mountpoint}})
    assert code == 202
    svc.wait_status(vol_id, {"in-use"})


def reset_migration(svc, vol_id, status):
    code, _, _ = svc.request("POST", svc.url(f"/volumes/{vol_id}/action"),
                             {"os-reset_status": {"migration_status": status}})
    assert code == 202


def test_migrate_volume_completion_moves_a_swapped_volumes_attachments(svc):
    """What Nova sends once it swapped an instance from volume A to volume B (neither migrating):
    A's attachment becomes B's (same instance and mountpoint), A is available, B in-use, and the
    answer names B; with `error` nothing moves. Cinder's checks and refusals otherwise."""
    a, _ = new_volume(svc)
    b, _ = new_volume(svc)
    legacy_attach(svc, a)
    # error: the swap failed, nothing moves; the answer still names the new volume.
    code, body, _ = complete(svc, a, {"new_volume": b, "error": True})
    assert (code, body) == (200, {"save_volume_id": b})
    assert volume(svc, a)["status"] == "in-use" and volume(svc, b)["status"] == "available"
    code, body, _ = complete(svc, a, {"new_volume": b})
    assert (code, body) == (200, {"save_volume_id": b})
    va, vb = volume(svc, a), volume(svc, b)
    assert va["status"] == "available" and va["attachments"] == []
    assert vb["status"] == "in-use"
    assert [(x["server_id"], x["device"]) for x in vb["attachments"]] == [(INSTANCE, "/dev/vdb")]
    # The stock client shows it too.
    assert INSTANCE in svc.cinder_table("show", b)["attached_servers"]

    # A new volume that cannot take the attachment (in-use, not multiattach): refused, and the
    # source keeps its attachment.
    c, _ = new_volume(svc)
    legacy_attach(svc, c, instance="66666666-7777-8888-9999-000000000000", mountpoint="/dev/vdc")
    code, body, _ = complete(svc, b, {"new_volume": c})
    assert code == 400 and "already attached" in body["badRequest"]["message"], body
    assert volume(svc, b)["status"] == "in-use" and len(volume(svc, b)["attachments"]) == 1
    assert len(volume(svc, c)["attachments"]) == 1

    # Bad bodies (Cinder's schema) and unknown volumes.
    for bad, message in (({}, "'new_volume' is a required property"),
                         ({"new_volume": "nope"}, "'nope' is not a 'uuid'"),
                         ({"new_volume": b, "error": 3}, "3 is not of type 'string', 'null', 'boolean'"),
                         ({"new_volume": b, "other": 1}, "Additional properties are not allowed")):
        code, body, _ = complete(svc, a, bad)
        assert code == 400 and message in body["badRequest"]["message"], (bad, body)
    missing = "7a1d1e42-5b8f-4a4e-9c55-2f7f0d6b7a11"
    code, body, _ = complete(svc, a, {"new_volume": missing})
    assert (code, body["itemNotFound"]["message"]) == (404, f"Volume {missing} could not be found.")
    code, body, _ = complete(svc, missing, {"new_volume": a})
    assert (code, body["itemNotFound"]["message"]) == (404, f"Volume {missing} could not be found.")

    # Mid-migration checks, in Cinder's order.
    reset_migration(svc, a, "migrating")
    code, body, _ = complete(svc, a, {"new_volume": c})
    assert (code, body["badRequest"]["message"]) == (400, "Invalid volume: Destination volume not mid-migration.")
    code, body, _ = complete(svc, c, {"new_volume": a})
    assert (code, body["badRequest"]["message"]) == (400, "Invalid volume: Source volume not mid-migration.")
    reset_migration(svc, c, "migrating")
    code, body, _ = complete(svc, a, {"new_volume": c})
    assert (code, body["badRequest"]["message"]) == (
        400, f"Invalid volume: Destination has migration_status migrating, expected target:{a}.")
    reset_migration(svc, a, "none")
    reset_migration(svc, c, "none")
    for vol_id in (b, c):
        svc.cinder("reset-state", "--attach-status", "detached", "--state", "available", vol_id)
    for vol_id in (a, b, c):
        svc.cinder("delete", vol_id)
    for vol_id in (a, b, c):
        svc.wait_status(vol_id, {"deleted"})


# -- workers/cleanup (3.24) ----------------------------------------------------------------------

V324 = ("--os-volume-api-version", "3.24")


def age_row(svc, vol_id, **fields):
    """Sets columns of a volume's row directly, with an updated_at long past: a volume some work
    left in a transitional status, as a dead process leaves it."""
    con = sqlite3.connect(svc.db_path, timeout=10)
    try:
        sets = ", ".join(f"{k} = ?" for k in fields)
        con.execute(f"UPDATE volumes SET {sets}, updated_at = '2020-01-01T00:00:00.000000' WHERE id = ?",
                    (*fields.values(), vol_id))
        con.commit()
    finally:
        con.close()


@pytest.fixture(scope="module")
def slow_sweeps(tmp_path_factory):
    """A service whose periodic sweep is half a minute away: what is repaired sooner was
    repaired by the cleanup."""
    proc, s = start_service(tmp_path_factory.mktemp("workers"), extra="report_interval = 40\nservice_down_time = 120\n")
    yield s
    stop_service(proc)


def test_work_cleanup_repairs_a_stuck_migration_now(slow_sweeps):
    svc = slow_sweeps
    vol_id = svc.cinder_table("create", "1")["id"]
    svc.wait_status(vol_id, {"available"})
    host = volume(svc, vol_id)["os-vol-host-attr:host"]
    age_row(svc, vol_id, status="maintenance", migration_status="migrating", previous_status="available")
    # By default (is_up false, as Cinder's CleanupRequest) only services that are down: none.
    out = svc.cinder(*V324, "work-cleanup").stdout
    assert host.split("#")[0] not in out
    assert volume(svc, vol_id)["status"] == "maintenance"
    code, body, _ = svc.request("POST", svc.url("/workers/cleanup"), {}, version="volume 3.24")
    assert code == 202 and body == {"cleaning": [], "unavailable": []}
    # The volume services that are up, by host: cleaning.
    out = svc.cinder(*V324, "work-cleanup", "--is-up", "true", "--host", host.split("@")[0],
                     "--binary", "cinder-volume").stdout
    rows = table_rows(out)
    assert [r["Host"] for r in rows] == [host.split("#")[0]] and rows[0]["Binary"] == "cinder-volume"
    deadline = time.time() + 10
    while volume(svc, vol_id)["status"] == "maintenance" and time.time() < deadline:
        time.sleep(0.05)
    v = volume(svc, vol_id)
    assert v["status"] == "available" and v["migration_status"] == "error"
    # And the raw answer: ids, hosts, binaries, no cluster.
    code, body, _ = svc.request("POST", svc.url("/workers/cleanup"), {"is_up": True}, version="volume 3.24")
    assert code == 202 and body["unavailable"] == []
    assert sorted(s["binary"] for s in body["cleaning"]) == ["cinder-scheduler", "cinder-volume"]
    vol_svc = next(s for s in body["cleaning"] if s["binary"] == "cinder-volume")
    assert isinstance(vol_svc["id"], int) and vol_svc["cluster_name"] is None
    code, body, _ = svc.request("POST", svc.url("/workers/cleanup"), {"service_id": vol_svc["id"], "is_up": None},
                                version="volume 3.24")
    assert code == 202 and body["cleaning"] == [vol_svc]
    svc.cinder("delete", vol_id)


def test_work_cleanup_refusals(slow_sweeps):
    svc = slow_sweeps
    url = svc.url("/workers/cleanup")
    # Before 3.24, and other methods: 404.
    code, _, _ = svc.request("POST", url, {}, version="volume 3.23")
    assert code == 404
    res = svc.cinder("--os-volume-api-version", "3.23", "work-cleanup", check=False)
    assert res.returncode != 0
    code, _, _ = svc.request("GET", url, version="volume 3.24")
    assert code == 404
    for body, message in (
        ({"foo": 1}, "Additional properties are not allowed ('foo' was unexpected)"),
        ({"binary": "cinder-backup"}, "is not one of ['cinder-volume', 'cinder-scheduler']"),
        ({"is_up": "maybe"}, "is_up"),
        ({"host": "a b"}, "does not match"),
        ({"service_id": "x1"}, "does not match '^[0-9]*$'"),
        ({"resource_id": "not-a-uuid"}, "is not valid under any of the given schemas"),
        ({"resource_type": "backup"}, "Resource type Backup not valid, must be Volume or Snapshot"),
        ({"resource_id": "00000000-0000-0000-0000-000000000000"},
         "There is no resource with UUID %s pending cleanup."),
    ):
        code, answer, _ = svc.request("POST", url, body, version="volume 3.24")
        assert code == 400 and message in answer["badRequest"]["message"], (body, answer)


def test_migrate_and_cleanup_need_an_admin(tmp_path_factory):
    """auth_strategy = keystone: a project member gets Cinder's 403."""
    from test_identity import IDENTITY_CONF, bootstrap, call, cinder_cli, login, openstack

    state = tmp_path_factory.mktemp("migrate-ks")
    proc, ks = start_service(state, extra=IDENTITY_CONF, log_file=str(state / "service.log"))
    try:
        bootstrap(ks)
        openstack(ks, "project", "create", "--domain", "default", "proj-m")
        openstack(ks, "user", "create", "--domain", "default", "--project", "proj-m", "--password", "m-pw", "mia")
        openstack(ks, "role", "add", "--project", "proj-m", "--user", "mia", "member")
        mia = {"user": "mia", "password": "m-pw", "project": "proj-m"}
        vol = cinder_cli(ks, "create", "1", **mia).stdout
        vol_id = next(r["Value"] for r in table_rows(vol) if r["Property"] == "id")
        res = cinder_cli(ks, "migrate", vol_id, "elsewhere@b#p", check=False, **mia)
        assert ("Policy doesn't allow volume_extension:volume_admin_actions:migrate_volume to be performed."
                in res.stdout + res.stderr)
        token, auth = login(ks, "mia", "m-pw", project="proj-m")
        code, body, _ = call(ks, "POST", f"/v3/{auth['token']['project']['id']}/volumes/{vol_id}/action",
                             {"os-migrate_volume_completion": {"new_volume": vol_id}}, token=token)
        assert code == 403 and body["forbidden"]["message"] == (
            "Policy doesn't allow volume_extension:volume_admin_actions:migrate_volume_completion to be performed.")
        res = cinder_cli(ks, *V324, "work-cleanup", check=False, **mia)
        assert res.returncode != 0 and "Policy doesn't allow workers:cleanup to be performed." in res.stderr
    finally:
        stop_service(proc)


# -- what is not served ----------------------------------------------------------------------------

NOT_SERVED = [
    ("GET", "/consistencygroups"), ("GET", "/consistencygroups/detail"), ("GET", "/cgsnapshots"),
    ("PUT", "/os-services/failover_host"),
    ("PUT", "/os-services/failover"), ("PUT", "/os-services/get-log"), ("PUT", "/os-services/set-log"),
    ("GET", "/workers"),
]


def test_endpoints_not_served_answer_404(slow_sweeps):
    """The Cinder v3 endpoints docs/api.md lists as not implemented: Cinder's 404 body."""
    for method, path in NOT_SERVED:
        code, body, _ = slow_sweeps.request(method, slow_sweeps.url(path), {} if method == "PUT" else None)
        assert code == 404 and body == {"itemNotFound": {"code": 404, "message": "The resource could not be found."}}, (
            method, path, code, body)


def test_a_restart_ends_a_migration_cut_short(tmp_path_factory):
    """A volume host that restarts during a migration (the volume `maintenance`, migrating) gives
    the volume its status back, where it is, with migration_status "error"."""
    state = tmp_path_factory.mktemp("migrate-restart")
    proc, s = start_service(state)
    try:
        vol_id = s.cinder_table("create", "1")["id"]
        s.wait_status(vol_id, {"available"})
        host = volume(s, vol_id)["os-vol-host-attr:host"]
        # A second volume in maintenance for another reason: left alone.
        other = s.cinder_table("create", "1")["id"]
        s.wait_status(other, {"available"})
    finally:
        stop_service(proc)
    age_row(s, vol_id, status="maintenance", migration_status="migrating", previous_status="available")
    age_row(s, other, status="maintenance")
    proc, s = start_service(state)
    try:
        deadline = time.time() + 10
        while volume(s, vol_id)["status"] == "maintenance" and time.time() < deadline:
            time.sleep(0.05)
        v = volume(s, vol_id)
        assert v["status"] == "available" and v["migration_status"] == "error"
        assert v["os-vol-host-attr:host"] == host
        assert volume(s, other)["status"] == "maintenance"
    finally:
        stop_service(proc)
