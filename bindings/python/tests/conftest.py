"""Fixtures for the cinder module's tests: an embedded service in a temporary directory.

Run by `make test` ("python") with PYTHONPATH at the built package (build/python); by hand:
    PYTHONPATH=build/python /usr/bin/python3 -m pytest -q bindings/python/tests
"""
import os

import pytest

import cinder

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("CINDER_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..", "..")))
BIN_DIR = os.environ.get("CINDER_BIN_DIR", os.path.join(SOURCE_DIR, "build", "bin"))


@pytest.fixture
def svc(tmp_path):
    """An embedded service (SQLite, one file backend) acting as admin of project "cinderlib"."""
    with cinder.open(state_path=str(tmp_path / "state")) as s:
        yield s


def settled(volume, timeout=30):
    """The volume once it left its transient status (a failure raises)."""
    return volume.wait(timeout=timeout)
