"""Fixtures for the end-to-end tests: a real cinder-all on a free loopback port."""
import http.client
import json
import os
import select
import sqlite3
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("CINDER_BIN_DIR", os.path.join(ROOT, "build", "bin"))
# The stock clients run without eventlet (see without_eventlet/eventlet/__init__.py).
WITHOUT_EVENTLET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "without_eventlet")
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in [WITHOUT_EVENTLET, os.environ.get("PYTHONPATH")] if p)
PROJECT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
USER = "e2e-user"


def run_cinder(endpoint, *args, check=True, project=PROJECT, user=USER):
    """The stock client against `endpoint` (http://HOST:PORT), noauth, as `user` in `project`."""
    cmd = ["cinder", "--os-auth-type", "noauth", "--os-endpoint", f"{endpoint}/v3/{project}",
           "--os-user-id", user, "--os-project-id", project, *args]
    # Only the command line configures the client: no OS_* settings from the caller.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def table_rows(out):
    """The rows of a table the client printed (message-list, ...), as dicts by column title."""
    rows, header = [], None
    for line in out.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        else:
            rows.append(dict(zip(header, cells)))
    return rows


class Service:
    def __init__(self, endpoint, state):
        self.endpoint = endpoint
        self.state = state
        self.volume_dir = os.path.join(state, "volumes")
        self.db_path = os.path.join(state, "cinder.sqlite")
        host, port = endpoint.rsplit("/", 1)[1].split(":")
        self.host, self.port = host, int(port)

    # -- the stock client ---------------------------------------------------------------------
    def cinder(self, *args, check=True):
        return run_cinder(self.endpoint, *args, check=check)

    def cinder_table(self, *args):
        """Runs a command that prints a Property/Value table and returns it as a dict."""
        out = self.cinder(*args).stdout
        props = {}
        for line in out.splitlines():
            if not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip("|").split("|")]
            if len(cells) >= 2 and cells[0] not in ("Property", ""):
                props[cells[0]] = cells[1]
            elif len(cells) >= 2 and cells[0] == "" and props:
                # A continuation line of a multi-line value (metadata).
                last = list(props)[-1]
                props[last] += "\n" + cells[1]
        return props

    # -- raw HTTP ---------------------------------------------------------------------------
    def request(self, method, path, body=None, version="volume 3.70", headers=None, raw=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        hdrs = {"X-Auth-Token": f"{USER}:{PROJECT}", "Content-Type": "application/json",
                "Accept": "application/json"}
        if version:
            hdrs["OpenStack-API-Version"] = version
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        return resp.status, (json.loads(text) if text else None), dict(resp.getheaders())

    def url(self, suffix):
        return f"/v3/{PROJECT}{suffix}"

    def wait_status(self, vol_id, statuses, timeout=20, kind="volume"):
        """Waits until the volume (or snapshot, with kind="snapshot") is in one of `statuses`
        ("deleted": gone) and returns that status."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            code, body, _ = self.request("GET", self.url(f"/{kind}s/{vol_id}"))
            if code == 404 and "deleted" in statuses:
                return "deleted"
            if code == 200 and body[kind]["status"] in statuses:
                return body[kind]["status"]
            time.sleep(0.02)
        raise AssertionError(f"{kind} {vol_id} did not reach {statuses}")

    def wait_snapshot(self, snap_id, statuses, timeout=20):
        return self.wait_status(snap_id, statuses, timeout, kind="snapshot")

    def db_snapshot(self):
        """Every row of every table, and the volume files: what a bad request must not change.
        Not the services' heartbeats and the pools' capacity reports, which change on their own."""
        con = sqlite3.connect(self.db_path)
        try:
            tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
                      if r[0] not in ("services", "pools")]
            rows = {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
        finally:
            con.close()
        files = {}
        for name in sorted(os.listdir(self.volume_dir)):
            files[name] = os.stat(os.path.join(self.volume_dir, name)).st_size
        return rows, files


def start_service(tmp_path, extra="", backends=None, log_file=None):
    """cinder-all on a free port; `backends` replaces the one file backend with these sections
    (name -> the section's lines). Its output is a pipe the test may read, or with `log_file` that
    file (for a test that makes it log more than a pipe holds unread)."""
    state = str(tmp_path)
    conf = os.path.join(state, "cinder.conf")
    if backends is None:
        backends = {"file": f"volume_driver = file\nvolume_backend_name = file\nfile_volume_directory = {state}/volumes\n"}
    sections = "".join(f"[{name}]\n{body}\n" for name, body in backends.items())
    with open(conf, "w") as f:
        f.write(f"""[DEFAULT]
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 0
state_path = {state}
enabled_backends = {", ".join(backends)}
{extra}
{sections}""")
    subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, "db", "sync"], check=True)
    if log_file:
        with open(log_file, "w") as log:
            proc = subprocess.Popen([os.path.join(BIN, "cinder-all"), "--config-file", conf], stdout=log,
                                    stderr=subprocess.STDOUT, text=True)
        line, deadline = "", time.time() + 10
        while "listening on" not in line and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
            line = next((l for l in open(log_file) if "listening on" in l), "")
        if "listening on" not in line:
            proc.kill()
            raise AssertionError(f"cinder-all did not start: {open(log_file).read()}")
    else:
        proc = subprocess.Popen([os.path.join(BIN, "cinder-all"), "--config-file", conf],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # The first line that says where it listens (warnings may come before it).
        seen, line, deadline = "", "", time.time() + 10
        while "listening on" not in line:
            ready, _, _ = select.select([proc.stdout], [], [], max(0, deadline - time.time()))
            line = proc.stdout.readline() if ready else ""
            seen += line
            if not line:
                proc.kill()
                raise AssertionError(f"cinder-all did not start: {seen}{proc.stdout.read()}")
    return proc, Service(line.strip().rsplit(" ", 1)[1], state)


def stop_service(proc):
    proc.terminate()
    try:
        assert proc.wait(timeout=15) == 0, "cinder-all did not stop cleanly on SIGTERM"
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    proc, svc = start_service(tmp_path_factory.mktemp("cinder"))
    yield svc
    stop_service(proc)
