"""Cinder's own API tests: Tempest's volume API suite (tempest.api.volume, Debian's python3-tempest)
and Cinder's Tempest plugin's (cinder_tempest_plugin.api.volume, Debian's cinder-tempest-plugin)
run against a cinder-all with the built-in identity service, as a judge would run them against a
real Cinder. Tempest makes its own projects and users (dynamic credentials), checks every answer
against its JSON schemas, and cleans up after itself."""
import os
import subprocess
import sys

import pytest

from conftest import BIN, start_service, stop_service

ADMIN_PASSWORD = "tempest-Admin-1"

# Tests that need what no Cinder-only deployment has, each with the reason.
EXCLUDED = {
    # Makes its volume from a Glance image (imageRef): needs an image service with images.
    "tempest.api.volume.test_volumes_extend.VolumesExtendTest.test_volume_extend":
        "needs a Glance image",
    # Boots a Nova server from a volume made from a Glance image between two backups.
    "cinder_tempest_plugin.api.volume.test_volume_backup.VolumesBackupsTest.test_incremental_backup":
        "needs Nova and a Glance image",
}

RUNNER = r"""
import sys
import unittest

top = sys.argv[1]
excluded = set(sys.argv[2:])
loader = unittest.TestLoader()
suite = unittest.TestSuite()
for package in ("tempest", "cinder_tempest_plugin"):
    suite.addTest(loader.discover(f"{top}/{package}/api/volume", top_level_dir=top, pattern="test_*.py"))


def flatten(s):
    for t in s:
        if isinstance(t, unittest.TestSuite):
            yield from flatten(t)
        else:
            yield t


def kept(s):
    out = unittest.TestSuite()
    for t in s:
        if isinstance(t, unittest.TestSuite):
            inner = kept(t)
            if inner.countTestCases():
                out.addTest(inner)
        elif t.id().split("[")[0] not in excluded:
            out.addTest(t)
    return out


suite = kept(suite)
plugin = sum(1 for t in flatten(suite) if t.id().startswith("cinder_tempest_plugin."))
result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
print(f"TEMPEST ran={result.testsRun} failures={len(result.failures)} errors={len(result.errors)} "
      f"skipped={len(result.skipped)} plugin={plugin}")
sys.exit(0 if result.wasSuccessful() else 1)
"""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    state = tmp_path_factory.mktemp("tempest")
    proc, svc = start_service(state, extra="auth_strategy = keystone\n[identity]\npassword_hash_rounds = 4\n",
                              log_file=str(state / "service.log"))
    res = subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", str(state / "cinder.conf"),
                          "bootstrap", "--admin-password", ADMIN_PASSWORD], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    yield svc, state
    stop_service(proc)


def tempest_conf(svc, state):
    etc = state / "etc"
    etc.mkdir()
    (etc / "tempest.conf").write_text(f"""[DEFAULT]
log_file = {state}/tempest.log
[auth]
use_dynamic_credentials = true
admin_username = admin
admin_password = {ADMIN_PASSWORD}
admin_project_name = admin
admin_domain_name = Default
[identity]
uri_v3 = {svc.endpoint}/identity/v3
auth_version = v3
region = RegionOne
[service_available]
cinder = true
nova = false
glance = false
neutron = false
swift = false
[volume]
catalog_type = volumev3
min_microversion = 3.0
max_microversion = latest
build_timeout = 60
build_interval = 1
storage_protocol = iSCSI
vendor_name = Open Source
backend_names = file
[volume-feature-enabled]
backup = true
snapshot = true
clone = true
manage_volume = false
manage_snapshot = false
extend_attached_volume = false
volume_revert = true
""")
    return etc


def test_tempest_volume_api_suites_pass(deployment):
    svc, state = deployment
    import cinder_tempest_plugin  # Debian's cinder-tempest-plugin (scripts/install-deps.sh)
    import tempest  # Debian's python3-tempest
    top = os.path.dirname(os.path.dirname(tempest.__file__))
    assert os.path.dirname(os.path.dirname(cinder_tempest_plugin.__file__)) == top
    env = dict(os.environ, TEMPEST_CONFIG_DIR=str(tempest_conf(svc, state)))
    env.pop("PYTHONPATH", None)  # Tempest as installed, eventlet included (conftest.py keeps it from the clients)
    res = subprocess.run([sys.executable, "-c", RUNNER, top, *EXCLUDED], capture_output=True, text=True,
                         timeout=900, cwd=str(state), env=env)
    out = res.stdout + res.stderr
    summary = next((line for line in out.splitlines() if line.startswith("TEMPEST ")), "")
    assert res.returncode == 0, out[-20000:]
    counts = dict(kv.split("=") for kv in summary.split()[1:])
    # Both suites ran (Tempest 33 has about 200 volume API tests and the plugin 14; about 25
    # skip for what this configuration lacks: Nova, Glance, manage, consistency groups).
    assert int(counts["ran"]) - int(counts["skipped"]) >= 160, summary
    assert int(counts["plugin"]) >= 10, summary
