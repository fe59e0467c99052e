"""cinder-manage and the daemons' command lines."""
import os
import sqlite3
import subprocess

from conftest import BIN


def manage(service, *args):
    conf = os.path.join(service.state, "cinder.conf")
    return subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, *args],
                          capture_output=True, text=True, timeout=60)


def test_db_version_and_purge(service):
    res = manage(service, "db", "version")
    assert res.returncode == 0 and res.stdout.strip() == "6"  # Store::kLatestVersion
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
