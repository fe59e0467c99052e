#!/usr/bin/env bash
# make run: the embedded service with its defaults, state under var/, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
top=$PWD
var=${CINDER_VAR:-$top/var}   # where the state lives (tests point it elsewhere)
mkdir -p "$var"
port=${CINDER_PORT:-8776}
# 8776 may be taken on a shared machine: fall back to a free port.
if ! /usr/bin/python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
  free=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "make run: port $port is in use; using $free instead"
  port=$free
fi
# Attachments: a private tgtd on loopback (an unusual port), stopped by pid when cinder-all
# stops; without tgtd the volumes attach as "local" (their files, on this host).
targets="target_helper = fake"
attach_note="tgtd is not installed: attachments answer driver_volume_type local (the volume's file)."
if ./scripts/tgtd-harness.sh start "$var/tgtd" >/dev/null 2>&1 && [ -f "$var/tgtd/env" ]; then
  # shellcheck disable=SC1091
  . "$var/tgtd/env"
  targets="target_helper = tgtadm
target_ip_address = 127.0.0.1
target_port = $TGTD_PORT
tgt_ipc_socket = $TGT_IPC_SOCKET
volumes_dir = $var/targets"
  attach_note="Attachments are exported over iSCSI by tgtd at 127.0.0.1:$TGTD_PORT (CHAP)."
  trap './scripts/tgtd-harness.sh stop "$var/tgtd" >/dev/null 2>&1 || true' EXIT
fi
cat > "$var/cinder.conf" <<CONF
# Written by make run (scripts/run.sh); edit a copy and pass it with --config-file.
[DEFAULT]
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = $port
auth_strategy = keystone
state_path = $var
enabled_backends = file

[database]
connection = sqlite:///$var/cinder.sqlite

[identity]
# The built-in identity service answers at http://127.0.0.1:$port/identity/v3.
password_hash_rounds = 10

[file]
volume_driver = file
volume_backend_name = file
file_volume_directory = $var/volumes
$targets
CONF
"$build/bin/cinder-manage" --config-file "$var/cinder.conf" db sync
# The first admin: a random password made once and kept (0600) under var/, in an openrc file
# the stock clients read.
if [ ! -s "$var/admin-password" ]; then
  (umask 077 && /usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(18))' >"$var/admin-password")
fi
OS_BOOTSTRAP_PASSWORD=$(cat "$var/admin-password") "$build/bin/cinder-manage" --config-file "$var/cinder.conf" \
  bootstrap --reset-password >/dev/null
(umask 077 && cat >"$var/openrc" <<RC
# Written by make run (scripts/run.sh): the admin of the built-in identity service.
export OS_AUTH_URL=http://127.0.0.1:$port/identity/v3
export OS_IDENTITY_API_VERSION=3
export OS_USERNAME=admin
export OS_PASSWORD=$(cat "$var/admin-password")
export OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default
export OS_PROJECT_DOMAIN_NAME=Default
RC
)
cat <<MSG

libcinder is starting: Block Storage API v3 at http://127.0.0.1:$port, identity (Keystone v3)
at http://127.0.0.1:$port/identity/v3, state in $var.

Dashboard: http://127.0.0.1:$port/dashboard/ (user admin, the password below).
Metrics (Prometheus): http://127.0.0.1:$port/metrics

In another shell:

  . $var/openrc
  openstack volume create --size 1 first
  openstack volume list
  cinder list

(the admin's password is in $var/admin-password; add users and projects with
openstack project create / user create / role add). Stop with Ctrl-C.
$attach_note

MSG
# Not exec: the tgtd this started is stopped when cinder-all ends.
"$build/bin/cinder-all" --config-file "$var/cinder.conf" &
child=$!
trap 'kill -TERM $child 2>/dev/null || true' INT TERM
wait $child || true
wait $child 2>/dev/null || true
