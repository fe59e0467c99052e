"""`make run`'s script: it starts the service and the command it prints works."""
import os
import re
import select
import shlex
import socket
import subprocess
import time

from conftest import BIN, ROOT


def test_run_script_prints_a_working_cinder_command(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = dict(os.environ, CINDER_VAR=str(tmp_path / "var"), CINDER_PORT=str(port))
    env = {k: v for k, v in env.items() if not k.startswith("OS_")}
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh"), os.path.dirname(BIN)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        out, command = "", None
        deadline = time.time() + 30
        while time.time() < deadline and "listening on" not in out:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            if ready:
                line = proc.stdout.readline()
                if not line:
                    break
                out += line
        assert "listening on" in out, out
        m = re.search(r"^\s+(cinder --os-auth-type noauth .* list)$", out, re.M)
        assert m, out
        command = shlex.split(m.group(1))
        assert f"http://127.0.0.1:{port}/v3/" in m.group(1)
        res = subprocess.run(command[:-1] + ["create", "--name", "from-make-run", "1"],
                             capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 0, res.stderr
        res = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 0 and "from-make-run" in res.stdout, res.stderr
        assert os.path.exists(tmp_path / "var" / "cinder.sqlite")
        assert len(os.listdir(tmp_path / "var" / "volumes")) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=15)
