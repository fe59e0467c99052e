"""cinder-manage and the daemons' command lines."""
import os
import re
import sqlite3
import subprocess
import time

from conftest import BIN, ROOT, start_service, stop_service

# The schema version this build migrates to (Store::kLatestVersion).
LATEST_SCHEMA = re.search(r"kLatestVersion = (\d+);",
                          open(os.path.join(ROOT, "libcinder", "db", "store.h")).read()).group(1)


def manage(service, *args):
    conf = os.path.join(service.state, "cinder.conf")
    return subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, *args],
                          capture_output=True, text=True, timeout=60)


def test_db_version_and_purge(service):
    res = manage(service, "db", "version")
    assert res.returncode == 0 and res.stdout.strip() == LATEST_SCHEMA
    assert manage(service, "db", "sync").returncode == 0  # idempotent

    code, body, _ = service.request("POST", service.url("/volumes"), {"volume": {"size": 1, "metadata": {"a": "b"}}})
    vol_id = body["volume"]["id"]
    service.wait_status(vol_id, ["available"])
    service.request("DELETE", service.url(f"/volumes/{vol_id}"))
    service.wait_status(vol_id, ["deleted"])

    def rows():
        con = sqlite3.connect(service.db_path)
        try:
            return (con.execute("SELECT COUNT(*) FROM volumes WHERE id = ?", (vol_id,)).fetchone()[0],
                    con.execute("SELECT COUNT(*) FROM volume_metadata WHERE volume_id = ?", (vol_id,)).fetchone()[0])
        finally:
            con.close()

    assert rows() == (1, 1)  # soft-deleted, still there
    res = manage(service, "db", "purge", "1")
    assert res.returncode == 0 and rows() == (1, 1)  # deleted less than a day ago: kept
    res = manage(service, "db", "purge", "0")
    assert res.returncode == 0, res.stderr
    assert "Purged" in res.stdout
    assert rows() == (0, 0)
    res = manage(service, "db", "purge", "soon")
    assert res.returncode == 2 and "DAYS must be a non-negative integer" in res.stderr


def test_a_bad_config_stops_cinder_all_with_a_clear_error(tmp_path):
    conf = tmp_path / "cinder.conf"
    conf.write_text("[DEFAULT]\nosapi_volume_listen_port = eighty\n")
    res = subprocess.run([os.path.join(BIN, "cinder-all"), "--config-file", str(conf)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2
    assert (f"{conf}: [DEFAULT] osapi_volume_listen_port: invalid value 'eighty' "
            "(expected an integer from 0 to 65535)") in res.stderr


def test_cinder_all_refuses_an_unsynced_database(tmp_path):
    conf = tmp_path / "cinder.conf"
    conf.write_text(f"[DEFAULT]\nstate_path = {tmp_path}\nosapi_volume_listen_port = 0\n")
    res = subprocess.run([os.path.join(BIN, "cinder-all"), "--config-file", str(conf)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert "run 'cinder-manage --config-file CONF db sync'" in res.stderr


def test_version_of_cinder_manage_and_every_daemon():
    for name in ("cinder-manage", "cinder-all", "cinder-api", "cinder-scheduler", "cinder-volume"):
        res = subprocess.run([os.path.join(BIN, name), "--version"], capture_output=True, text=True, timeout=30)
        assert res.returncode == 0, (name, res.stderr)
        assert res.stdout.strip().count(".") == 2, (name, res.stdout)  # MAJOR.MINOR.PATCH


def test_service_list_and_remove(tmp_path):
    proc, svc = start_service(tmp_path, extra="report_interval = 1\nservice_down_time = 3\n")
    try:
        res = manage(svc, "service", "list")
        assert res.returncode == 0, res.stdout
        lines = res.stdout.splitlines()
        assert lines[0].split()[:6] == ["Binary", "Host", "Zone", "Status", "State", "Updated"]
        rows = {(line.split()[0], line.split()[1]): line.split() for line in lines[1:]}
        assert {b for b, _ in rows} == {"cinder-scheduler", "cinder-volume", "cinder-backup"}
        for row in rows.values():
            assert row[2] == "nova" and row[3] == "enabled" and row[4] == ":-)"
        # A host that died: its row stays, down, until the operator removes it.
        con = sqlite3.connect(svc.db_path)
        con.execute("INSERT INTO services (host, \"binary\", topic, availability_zone, disabled, report_count, "
                    "created_at, updated_at, deleted, endpoint, rpc_current_version) VALUES ('gone@lvm', "
                    "'cinder-volume', 'cinder-volume', 'nova', 0, 0, '2026-01-01T00:00:00.000000', "
                    "'2026-01-01T00:00:00.000000', 0, '', 4)")
        con.commit()
        con.close()
        dead = [line for line in manage(svc, "service", "list").stdout.splitlines() if "gone@lvm" in line]
        assert len(dead) == 1 and dead[0].split()[4] == "XXX" and "2026-01-01 00:00:00" in dead[0]
        res = manage(svc, "service", "remove", "cinder-volume", "gone@lvm")
        assert res.returncode == 0 and res.stdout.strip() == "Service cinder-volume on host gone@lvm removed."
        assert "gone@lvm" not in manage(svc, "service", "list").stdout
        res = manage(svc, "service", "remove", "cinder-volume", "gone@lvm")
        assert res.returncode == 2
        assert res.stdout.startswith("Host not found. Failed to remove cinder-volume on gone@lvm.")
    finally:
        stop_service(proc)


def test_volume_delete_whatever_its_status(tmp_path):
    proc, svc = start_service(tmp_path, extra="report_interval = 1\n")
    try:
        code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1}})
        placed = body["volume"]["id"]
        svc.wait_status(placed, ["available"])
        path = os.path.join(svc.state, "volumes", f"volume-{placed}")
        assert os.path.exists(path)
        # A status the API refuses to delete from.
        con = sqlite3.connect(svc.db_path)
        con.execute("UPDATE volumes SET status = 'error_deleting' WHERE id = ?", (placed,))
        # Never placed: no host.
        never = "00000000-0000-4000-8000-00000000abcd"
        con.execute("INSERT INTO volumes (id, size, status, attach_status, project_id, user_id, bootable, "
                    "multiattach, created_at, deleted) SELECT ?, 1, 'creating', 'detached', project_id, user_id, 0, "
                    "0, created_at, 0 FROM volumes WHERE id = ?", (never, placed))
        con.commit()
        con.close()
        res = manage(svc, "volume", "delete", never)
        assert res.returncode == 0, res.stdout
        assert res.stdout.splitlines() == ["Volume not yet assigned to host.",
                                           "Deleting volume from database and skipping rpc."]
        svc.wait_status(never, ["deleted"], timeout=5)

        res = manage(svc, "volume", "delete", placed)
        assert res.returncode == 0, res.stdout
        assert f"Volume {placed} is deleting" in res.stdout
        svc.wait_status(placed, ["deleted"], timeout=15)  # the volume service's next sweep
        assert not os.path.exists(path)

        res = manage(svc, "volume", "delete", never)
        assert res.returncode == 1 and f"Volume {never} could not be found." in res.stdout
    finally:
        stop_service(proc)


def test_state_folder_and_database_are_private(tmp_path):
    os.chmod(tmp_path, 0o755)
    proc, svc = start_service(tmp_path)
    try:
        code, body, _ = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1}})
        vol_id = body["volume"]["id"]
        svc.wait_status(vol_id, ["available"])
        mode = lambda p: oct(os.stat(p).st_mode & 0o777)  # noqa: E731
        assert mode(svc.state) == "0o700"
        for suffix in ("", "-wal", "-shm"):
            assert mode(svc.db_path + suffix) == "0o600", suffix
        assert mode(os.path.join(svc.state, "volumes")) == "0o700"
        assert mode(os.path.join(svc.state, "volumes", f"volume-{vol_id}")) == "0o600"
    finally:
        stop_service(proc)
