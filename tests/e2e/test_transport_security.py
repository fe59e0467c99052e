"""The transport between the distributed daemons is ZeroMQ CURVE with the deployment's key, made
by `cinder-manage transport keygen`: a deployment with it works end to end, and a process that is
not of the deployment, sending well-formed RPC requests (the wire format of rpc/wire.h) to each
service's port as read from the services table, is ignored (nothing changes) and logged by the
service it knocked on. A daemon configured for CURVE without its key does not start."""
import json
import os
import re
import stat
import subprocess
import time

import pytest

from conftest import BIN
from test_distributed import Cluster

INTRUDER = os.path.join(BIN, "rpc_intruder")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    c = Cluster(str(tmp_path_factory.mktemp("curve")))
    try:
        c.db_sync()
        c.start("s1", "cinder-scheduler", "sched1")
        c.start("v1", "cinder-volume", "vol1", "fast")
        c.start("api", "cinder-api", "apihost")
        yield c
        codes = c.stop_all()
        assert all(code == 0 for code in codes.values()), codes
    finally:
        c.stop_all()


def endpoints(c):
    """(binary, topic, endpoint) of each service that serves RPC, from the services table."""
    out = subprocess.run(["psql", "-At", "-F", "|", c.db_url, "-c",
                          'SELECT "binary", host, endpoint FROM services WHERE deleted = 0 ORDER BY id'],
                         check=True, capture_output=True, text=True).stdout
    rows = []
    for line in out.splitlines():
        binary, host, endpoint = line.split("|")
        topic = "cinder-scheduler" if binary == "cinder-scheduler" else f"cinder-volume.{host}"
        rows.append((binary, topic, endpoint))
    return rows


def intrude(mode, endpoint, topic, method, args, kind, wait_ms=1500):
    res = subprocess.run([INTRUDER, mode, endpoint, topic, method, json.dumps(args), kind, str(wait_ms)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def log_of(c, name):
    with open(os.path.join(c.tmp, f"{name}.log")) as f:
        return f.read()


def create_available(c):
    code, body = c.request("POST", "/volumes", {"volume": {"size": 1}})
    assert code == 202, body
    vol_id = body["volume"]["id"]
    c.wait(lambda: c.volume(vol_id)["status"] == "available", 30, "available")
    return vol_id


def test_the_key_is_made_by_cinder_manage_for_its_owner_only(deployment):
    mode = stat.S_IMODE(os.stat(deployment.key_file).st_mode)
    assert mode == 0o600
    text = open(deployment.key_file).read()
    assert "public_key = " in text and "secret_key = " in text
    # Never over an existing key: replacing it on one host would cut that host off.
    res = subprocess.run([os.path.join(BIN, "cinder-manage"), "transport", "keygen", "--output",
                          deployment.key_file], capture_output=True, text=True)
    assert res.returncode == 1
    assert f"{deployment.key_file} exists: a deployment has one transport key" in res.stderr
    assert open(deployment.key_file).read() == text


def test_a_curve_deployment_creates_and_deletes_across_processes(deployment):
    services = endpoints(deployment)
    assert {b for b, _, _ in services} == {"cinder-scheduler", "cinder-volume"}
    assert all(ep.startswith("tcp://127.0.0.1:") for _, _, ep in services)
    vol_id = create_available(deployment)
    assert deployment.volume(vol_id)["os-vol-host-attr:host"] == "vol1@fast#fast"
    code, _ = deployment.request("DELETE", f"/volumes/{vol_id}")
    assert code == 202
    deployment.wait(lambda: deployment.volume(vol_id) is None, 30, "deleted")


def test_an_outsider_is_ignored_by_every_service_and_logged(deployment):
    vol_id = create_available(deployment)
    services = endpoints(deployment)
    volume_ep = next((topic, ep) for b, topic, ep in services if b == "cinder-volume")
    # The control: the deployment's own key reads the volume's local path with this very
    # message (so the outsiders' requests below are ones a service would carry out).
    answer = intrude(f"key-file:{deployment.key_file}", volume_ep[1], volume_ep[0], "local_path",
                     {"volume_id": vol_id}, "call")
    assert answer.startswith("ACK | intruder-1\nREPLY | intruder-1 | OK |"), answer
    path = json.loads(answer.rsplit(" | ", 1)[1])["path"]
    assert os.path.exists(path)

    for mode in ("plain", f"own-key:{deployment.key_file}"):  # no CURVE; CURVE with a key of its own
        for binary, topic, ep in services:
            if binary == "cinder-volume":
                assert intrude(mode, ep, topic, "delete_volume", {"volume_id": vol_id}, "cast") == "no answer"
                assert intrude(mode, ep, topic, "local_path", {"volume_id": vol_id}, "call", 500) == "no answer"
            else:
                report = {"host": "evil@x#p", "backend_host": "evil@x",
                          "capabilities": {"free_capacity_gb": "100000", "total_capacity_gb": "100000"},
                          "volume_count": 0}
                assert intrude(mode, ep, topic, "update_service_capabilities", report, "cast") == "no answer"
    # Nothing changed: the volume and its file are there, no pool was invented.
    time.sleep(0.5)
    assert deployment.volume(vol_id)["status"] == "available"
    assert os.path.exists(path)
    code, pools = deployment.request("GET", "/scheduler-stats/get_pools")
    assert code == 200 and [p["name"] for p in pools["pools"]] == ["vol1@fast#fast"]
    # Each service logged why, once per reason (rate-limited), naming the peer, never a key.
    key_text = open(deployment.key_file).read()
    keys = [line.split(" = ", 1)[1] for line in key_text.splitlines() if " = " in line]
    for name in ("v1", "s1"):
        log = log_of(deployment, name)
        # Without CURVE: the service notices the mismatch, or the outsider does and leaves first
        # (then its address is read when its connection is reported, unless it is gone by then).
        assert re.search(r"WARNING rpc \[-\] refused an RPC connection from (127\.0\.0\.1|an unknown peer .*): "
                         r"(it does not use CURVE|it left during the CURVE handshake)", log), log
        assert "refused an RPC connection from 127.0.0.1: its CURVE key is not this deployment's" in log, log
        assert log.count("its CURVE key is not this deployment's") == 1, log  # the outsider retried
        assert not any(k in log for k in keys)
    # The deployment itself still works.
    code, _ = deployment.request("DELETE", f"/volumes/{vol_id}")
    assert code == 202
    deployment.wait(lambda: deployment.volume(vol_id) is None, 30, "deleted")
    assert not os.path.exists(path)


def test_a_daemon_configured_for_curve_without_its_key_does_not_start(deployment):
    conf = deployment.conf("nokey", "nokey", "b")
    missing = os.path.join(deployment.tmp, "missing.key")
    with open(conf) as f:
        text = f.read().replace(f"transport_key_file = {deployment.key_file}", f"transport_key_file = {missing}")
    with open(conf, "w") as f:
        f.write(text)
    res = subprocess.run([os.path.join(BIN, "cinder-scheduler"), "--config-file", conf], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 1
    assert (f"{missing}: cannot read the transport key: No such file or directory. The distributed services "
            f"authenticate each other with the deployment's transport key (transport_security = curve): make it "
            f"once with `cinder-manage --config-file {conf} transport keygen`") in res.stderr, res.stderr
    # A key other users may read is refused too.
    subprocess.run([os.path.join(BIN, "cinder-manage"), "transport", "keygen", "--output", missing], check=True,
                   capture_output=True)
    os.chmod(missing, 0o644)
    res = subprocess.run([os.path.join(BIN, "cinder-volume"), "--config-file", conf], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 1
    assert f"the transport key is open to other users (mode 0644); chmod 600 {missing}" in res.stderr


def test_with_transport_security_none_a_service_binds_loopback_and_serves_anyone(deployment):
    """What 'none' means, and a control for the test above: the same outsider is served."""
    conf = deployment.conf("s3", "sched3", "b")
    with open(conf) as f:
        text = f.read().replace("[DEFAULT]\n", "[DEFAULT]\ntransport_security = none\n", 1)
    with open(conf, "w") as f:
        f.write(text)
    proc = subprocess.Popen([os.path.join(BIN, "cinder-scheduler"), "--config-file", conf],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert "serving cinder-scheduler as sched3" in line, line
        ep = subprocess.run(["psql", "-At", deployment.db_url, "-c",
                             "SELECT endpoint FROM services WHERE host = 'sched3' AND deleted = 0"],
                            check=True, capture_output=True, text=True).stdout.strip()
        assert ep.startswith("tcp://127.0.0.1:"), ep
        report = {"host": "evil@x#p", "backend_host": "evil@x", "capabilities": {}, "volume_count": 0}
        assert intrude("plain", ep, "cinder-scheduler", "update_service_capabilities", report,
                       "cast") == "ACK | intruder-1"
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
        deployment.psql("DELETE FROM services WHERE host = 'sched3'")
