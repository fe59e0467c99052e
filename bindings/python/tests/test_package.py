"""The package: its stubs match the module, its docstrings, how fast it imports."""
import ast
import inspect
import os
import subprocess
import sys

import cinder


def stub_tree():
    with open(os.path.join(os.path.dirname(cinder.__file__), "__init__.pyi")) as f:
        return ast.parse(f.read())


def test_stubs_cover_the_module():
    tree = stub_tree()
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    for name in cinder.__all__:
        assert name in classes or name in functions, f"{name} has no stub"
    for name, node in classes.items():
        if not hasattr(cinder, name) or issubclass(getattr(cinder, name), BaseException):
            continue
        stubbed = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
        public = {a for a in dir(getattr(cinder, name)) if not a.startswith("_")}
        assert public <= stubbed, f"{name}: {sorted(public - stubbed)} have no stub"
    assert os.path.exists(os.path.join(os.path.dirname(cinder.__file__), "py.typed"))


def test_docstrings():
    assert cinder.__doc__ and cinder.open.__doc__
    for cls in (cinder.Service, cinder.Volume, cinder.Snapshot, cinder.Backup, cinder.VolumeFile):
        assert cls.__doc__
    # Every public method says more than its signature.
    for name in cinder.__all__:
        cls = getattr(cinder, name)
        if not inspect.isclass(cls) or issubclass(cls, BaseException):
            continue
        for attr in dir(cls):
            member = getattr(cls, attr)
            if attr.startswith("_") or not callable(member):
                continue
            lines = [line for line in (member.__doc__ or "").splitlines() if line.strip()]
            assert len(lines) >= 2, f"{name}.{attr} has no docstring"
    assert "GIL" in cinder.Volume.wait.__doc__
    assert cinder.__version__ == "0.1.0"
    assert inspect.isclass(cinder.Error)


def test_import_is_fast():
    code = "import time; t = time.perf_counter(); import cinder; print(time.perf_counter() - t)"
    best = min(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                    env=dict(os.environ)).stdout) for _ in range(3))
    # bench/python_embedded.py reports the figure (target 50 ms); here a bound a busy machine keeps.
    assert best < 0.25, best


def test_logging_to_a_file(tmp_path):
    """Logging options given to open() send the library's lines to a file, not to stderr."""
    code = f"""
import cinder
with cinder.open(state_path={str(tmp_path / 'state')!r}, log_file={str(tmp_path / 'cinder.log')!r},
                 use_stderr=False) as svc:
    svc.create_volume(1).wait().backup().wait()
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    log = (tmp_path / "cinder.log").read_text()
    assert " INFO cinder-backup [-] backup " in log and " finished: " in log
    with __import__("pytest").raises(cinder.InvalidInput):
        cinder.configure_logging(log_file=str(tmp_path))  # a directory
