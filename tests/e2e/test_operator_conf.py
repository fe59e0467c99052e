"""An operator's existing cinder.conf starts the service: the sections and options of other
services are ignored, each named once on stderr, and a `#` inside a value is part of it, as
oslo.config reads the file."""
import glob
import os
import select
import subprocess

from conftest import BIN, ROOT, Service, stop_service

IGNORED_SECTION = "unknown section (not one of libcinder's, nor a backend named in enabled_backends), ignored"


def operator_conf(state):
    # What a Cinder node's file holds besides what libcinder reads, a backend directory with a
    # `#` in its name, and an [lvm] section that enabled_backends does not name.
    return f"""[DEFAULT]
transport_url = rabbit://openstack:RABBIT#PASS@controller
auth_strategy = noauth
my_ip = 127.0.0.1
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 0
state_path = {state}
enabled_backends = file
glance_api_servers = http://controller:9292
transport_url = rabbit://openstack:RABBIT#PASS@controller2

[database]
connection = sqlite:///{state}/cinder.sqlite
max_retries = -1

[keystone_authtoken]
www_authenticate_uri = http://controller:5000
auth_url = http://controller:5000
memcached_servers = controller:11211
auth_type = password
project_domain_name = default
user_domain_name = default
project_name = service
username = cinder
password = CINDER#PASS

[oslo_messaging_rabbit]
rabbit_ha_queues = true

[oslo_concurrency]
lock_path = /var/lib/cinder/tmp

[lvm]
volume_driver = cinder.volume.drivers.lvm.LVMVolumeDriver
volume_group = cinder-volumes
target_protocol = iscsi
target_helper = lioadm
iscsi_ip_address = 10.0.0.11

[file]
# a comment, and a value with a # in it
volume_driver = file
file_volume_directory = {state}/volumes#1
"""


def test_an_operators_cinder_conf_starts_and_warns_once_per_ignored_item(tmp_path):
    state = str(tmp_path)
    conf = os.path.join(state, "cinder.conf")
    with open(conf, "w") as f:
        f.write(operator_conf(state))
    # [keystone_authtoken] is read (it takes effect with auth_strategy = keystone), but for
    # memcached_servers: libcinder caches validations in the process.
    expected = [
        f"warning: {conf}: [oslo_messaging_rabbit]: {IGNORED_SECTION}",
        f"warning: {conf}: [oslo_concurrency]: {IGNORED_SECTION}",
        f"warning: {conf}: [lvm]: {IGNORED_SECTION}",
        f"warning: {conf}: [DEFAULT] transport_url: unknown option, ignored",
        f"warning: {conf}: [database] max_retries: unknown option, ignored",
        f"warning: {conf}: [keystone_authtoken] memcached_servers: unknown option, ignored",
    ]
    sync = subprocess.run([os.path.join(BIN, "cinder-manage"), "--config-file", conf, "db", "sync"],
                          capture_output=True, text=True, timeout=60)
    assert sync.returncode == 0, sync.stderr
    assert ["warning: " + l.split(" WARNING cinder [-] ", 1)[1] for l in sync.stderr.splitlines()] == expected

    stderr_path = os.path.join(state, "stderr.log")
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen([os.path.join(BIN, "cinder-all"), "--config-file", conf],
                                stdout=subprocess.PIPE, stderr=err, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 10)
        line = proc.stdout.readline() if ready else ""
        assert "listening on" in line, open(stderr_path).read()
        svc = Service(line.strip().rsplit(" ", 1)[1], state)
        # The backend's directory is the whole value, `#` included.
        vol = svc.cinder_table("create", "--name", "from-operator-conf", "1")
        assert svc.wait_status(vol["id"], {"available", "error"}) == "available"
        assert os.listdir(os.path.join(state, "volumes#1")) == [f"volume-{vol['id']}"]
    finally:
        stop_service(proc)
    lines = open(stderr_path).read().splitlines()
    warned = [l.split(" WARNING cinder [-] ", 1)[1] for l in lines if " WARNING cinder [-] " in l]
    assert ["warning: " + w for w in warned] == expected
    # Ignored values are not echoed: the secrets in them stay out of the log.
    assert not any("PASS" in l for l in lines)


def test_the_docs_ini_examples_read_as_written():
    """oslo.config's comments are whole lines: a `# ...` after a value would be part of it, and
    an indented line would continue the value above."""
    bad = []
    for path in sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")) + [os.path.join(ROOT, "README.md")]):
        in_ini = False
        for n, line in enumerate(open(path), 1):
            if line.startswith("```"):
                in_ini = line.strip() == "```ini"
                continue
            text = line.rstrip("\n")
            if not in_ini or not text.strip() or text.lstrip()[0] in "#;":
                continue
            if text[0] in " \t" or " #" in text:
                bad.append(f"{os.path.relpath(path, ROOT)}:{n}: {text}")
    assert not bad, "\n".join(bad)
