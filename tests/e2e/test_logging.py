"""Logging: oslo.log's options (debug, log_file, use_stderr), every line with its level, service
and request id, and no secret in any line: the transfer key, the passwords of sections an
operator's cinder.conf carries for other services, the token."""
import os
import re
import select
import subprocess

from conftest import BIN, PROJECT, Service, run_cinder, stop_service

OTHER = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5"
RABBIT_SECRET = "rabbit-Secr3t-pw"
KEYSTONE_SECRET = "keystone-Secr3t-pw"
LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \d+ (DEBUG|INFO|WARNING|ERROR) (\S+) \[(req-[0-9a-f-]{36}|-)\] ")


def start(tmp_path):
    state = str(tmp_path)
    conf = os.path.join(state, "cinder.conf")
    with open(conf, "w") as f:
        f.write(f"""[DEFAULT]
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 0
state_path = {state}
enabled_backends = file
debug = true
log_file = cinder.log
log_dir = {state}
use_stderr = false
transport_url = rabbit://guest:{RABBIT_SECRET}@rabbit.example:5672/

[keystone_authtoken]
auth_url = http://keystone.example:5000
password = {KEYSTONE_SECRET}

[file]
volume_driver = file
volume_backend_name = file
file_volume_directory = {state}/volumes
""")
    subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, "db", "sync"], check=True,
                   capture_output=True)
    proc = subprocess.Popen([os.path.join(BIN, "cinder-all"), "--config-file", conf],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ""
    while "listening on" not in output:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            raise AssertionError(f"cinder-all did not start: {output}")
        output += line
    return proc, Service(output.strip().rsplit(" ", 1)[1], state), output


def test_lines_carry_level_service_and_request_id_and_no_secret(tmp_path):
    proc, svc, started = start(tmp_path)
    try:
        status, body, headers = svc.request("POST", svc.url("/volumes"), {"volume": {"size": 1, "name": "logged"}})
        assert status == 202
        create_request = headers["x-openstack-request-id"]
        vol = body["volume"]["id"]
        svc.wait_status(vol, {"available"})
        status, body, _ = svc.request("POST", svc.url("/os-volume-transfer"),
                                      {"transfer": {"volume_id": vol, "name": "t"}})
        assert status == 202
        transfer, key = body["transfer"]["id"], body["transfer"]["auth_key"]
        res = run_cinder(svc.endpoint, "transfer-accept", transfer, key, project=OTHER, user="other")
        assert res.returncode == 0
        status, _, headers = svc.request("GET", svc.url("/volumes/not-a-volume"))
        assert status == 404
        missing_request = headers["x-openstack-request-id"]
    finally:
        stop_service(proc)
        rest = proc.stdout.read()
    log_path = os.path.join(str(tmp_path), "cinder.log")
    with open(log_path) as f:
        log = f.read()
    lines = log.splitlines()
    assert lines, "nothing was logged"
    for line in lines:
        assert LINE.match(line), f"not an oslo.log-shaped line: {line!r}"
    # debug = true: each API request is logged with its own request id.
    assert any(f"DEBUG cinder-api [{create_request}] \"POST /v3/{PROJECT}/volumes\" status: 202" in l
               for l in lines), log
    assert any(f"[{missing_request}] \"GET /v3/{PROJECT}/volumes/not-a-volume\" status: 404" in l for l in lines)
    # use_stderr = false: nothing but the start line went to the terminal, not even the
    # configuration's warnings, which are in the log file.
    assert not LINE.search(started), started
    assert not LINE.search(rest), rest
    assert any(l.endswith("[DEFAULT] transport_url: unknown option, ignored") for l in lines), log
    # No secret anywhere: not the transfer key, not the passwords of the ignored sections, not
    # the token.
    everything = log + started + rest
    for secret in (key, RABBIT_SECRET, KEYSTONE_SECRET, f"e2e-user:{PROJECT}"):
        assert secret not in everything, f"{secret} was logged"


def test_an_unwritable_log_file_stops_the_start_with_a_clear_error(tmp_path):
    state = str(tmp_path)
    conf = os.path.join(state, "cinder.conf")
    with open(conf, "w") as f:
        f.write(f"""[DEFAULT]
state_path = {state}
enabled_backends = file
log_file = /proc/no-such-dir/cinder.log

[file]
volume_driver = file
file_volume_directory = {state}/volumes
""")
    res = subprocess.run([os.path.join(BIN, "cinder-all"), "--config-file", conf], capture_output=True, text=True,
                         timeout=30)
    assert res.returncode == 2
    assert "cannot open the log file /proc/no-such-dir/cinder.log" in res.stderr


def test_sighup_rereads_the_logging_options_and_reopens_the_log(tmp_path):
    import signal
    import time
    proc, svc, _ = start(tmp_path)
    conf = os.path.join(svc.state, "cinder.conf")
    log = os.path.join(svc.state, "cinder.log")
    try:
        # Debug off: request lines (DEBUG) stop; the service lives on and says what it did.
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace("debug = true", "debug = false"))
        # logrotate moves the file away, then signals.
        os.rename(log, log + ".1")
        proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while not os.path.exists(log) and time.time() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "SIGHUP stopped the service"
        assert os.path.exists(log), "the log file was not reopened"
        svc.request("GET", svc.url("/volumes"))
        time.sleep(0.3)
        lines = open(log).read().splitlines()
        assert any("SIGHUP: reread" in line and "debug = false" in line for line in lines), lines
        assert not any(" DEBUG " in line for line in lines), lines
        # A broken file is refused: the running settings stay.
        with open(conf, "w") as f:
            f.write(text + "\n[DEFAULT]\nosapi_volume_listen_port = eighty\n")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proc.poll() is None
        assert any("SIGHUP: keeping the running configuration" in line for line in open(log).read().splitlines())
        code, _, _ = svc.request("GET", svc.url("/volumes"))
        assert code == 200
    finally:
        stop_service(proc)
