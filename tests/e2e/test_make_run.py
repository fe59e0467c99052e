"""`make run`'s script: it starts the service and the command it prints works."""
import os
import re
import select
import shlex
import socket
import subprocess
import time
import urllib.request

from conftest import BIN, ROOT


def test_run_script_prints_working_openstack_and_cinder_commands(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, CINDER_VAR=str(tmp_path / "var"), CINDER_PORT=str(port))
    env = {k: v for k, v in env.items() if not k.startswith("OS_")}
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh"), os.path.dirname(BIN)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        out = ""
        deadline = time.time() + 60
        while time.time() < deadline and "listening on" not in out:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                line = proc.stdout.readline()
                if not line:
                    break
                out += line
        assert "listening on" in out, out
        m = re.search(r"^\s+\. (\S+/openrc)$", out, re.M)
        assert m, out
        openrc = m.group(1)
        assert oct(os.stat(openrc).st_mode & 0o777) == "0o600"
        # The commands printed, as a newcomer runs them: source the file, then the clients.
        for command, expect in (("openstack volume create --size 1 from-make-run", "from-make-run"),
                                ("openstack volume list", "from-make-run"),
                                ("cinder list", "from-make-run")):
            res = subprocess.run(["bash", "-c", f". {shlex.quote(openrc)} && {command}"], capture_output=True,
                                 text=True, timeout=120, env=env)
            assert res.returncode == 0 and expect in res.stdout, (command, res.stdout, res.stderr)
        assert f"http://127.0.0.1:{port}/identity/v3" in open(openrc).read()
        # The dashboard's address is printed, and it serves the page there.
        m = re.search(r"Dashboard: (http://\S+/dashboard/)", out)
        assert m and m.group(1) == f"http://127.0.0.1:{port}/dashboard/", out
        with urllib.request.urlopen(m.group(1), timeout=10) as r:
            assert r.status == 200 and b'<script type="module" src="js/main.js">' in r.read()
        assert os.path.exists(tmp_path / "var" / "cinder.sqlite")
        assert len(os.listdir(tmp_path / "var" / "volumes")) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
