"""The Python examples (examples/*.py) run as a user would run them."""
import os
import subprocess
import sys

import cinder
from conftest import SOURCE_DIR

EXAMPLES = os.path.join(SOURCE_DIR, "examples")


def run(script, *args):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))


def test_provision_projects(tmp_path):
    r = run("provision_projects.py", "--state-path", str(tmp_path), "--count", "12", "--size", "2",
            "alpha", "beta")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    # Not a terminal: a line per project, then each project's volumes and usage.
    assert lines[:2] == ["alpha: 12/12 available", "beta: 12/12 available"]
    assert lines[2].startswith("alpha: 12 volumes, 24 GiB: alpha-0 alpha-1 alpha-10 alpha-11 alpha-2")
    assert lines[3].startswith("beta: 12 volumes, 24 GiB: beta-0")
    with cinder.open(state_path=str(tmp_path)) as svc:
        # The quota (10 volumes by default) was raised to fit.
        assert svc.for_project("beta").quotas()["volumes"].limit == 12
        assert sorted({v.project_id for v in svc.volumes(all_tenants=True)}) == ["alpha", "beta"]


def test_provision_projects_progress_bar(tmp_path):
    """On a terminal the bar is redrawn in place."""
    import pty
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdout is the terminal
        os.execv(sys.executable, [sys.executable, os.path.join(EXAMPLES, "provision_projects.py"),
                                  "--state-path", str(tmp_path), "--count", "3", "gamma"])
    out = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0, out
    text = out.decode()
    assert "\r[" in text and "] 3/3 " in text
    assert "gamma: 3 volumes, 3 GiB: gamma-0 gamma-1 gamma-2" in text


def test_read_volume(tmp_path):
    with cinder.open(state_path=str(tmp_path)) as svc:
        vol = svc.create_volume(1).wait()
        with vol.attach() as f:
            f.seek(4096)
            f.write(b"libcinder from Python\n")
    r = run("read_volume.py", "--state-path", str(tmp_path), vol.id, "--offset", "4096", "--length", "32")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == (
        "00001000  6c 69 62 63 69 6e 64 65 72 20 66 72 6f 6d 20 50  |libcinder from P|")
    assert r.stdout.splitlines()[1].endswith("|ython...........|")
    assert "32 bytes of volume" in r.stderr and "local " in r.stderr
    out = tmp_path / "vol.img"
    r = run("read_volume.py", "--state-path", str(tmp_path), vol.id, "--length", str(9 << 20), "--output", str(out))
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert len(data) == 9 << 20 and data[4096:4118] == b"libcinder from Python\n"
    with cinder.open(state_path=str(tmp_path)) as svc:
        assert svc.get_volume(vol.id).status == "available"  # detached again
