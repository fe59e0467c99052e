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
auth_strategy = noauth
state_path = $var
enabled_backends = file

[database]
connection = sqlite:///$var/cinder.sqlite

[file]
volume_driver = file
volume_backend_name = file
file_volume_directory = $var/volumes
$targets
CONF
"$build/bin/cinder-manage" --config-file "$var/cinder.conf" db sync
project=demo
cat <<MSG

libcinder is starting: Block Storage API v3 at http://127.0.0.1:$port (noauth, state in $var).
In another shell, use the stock client:

  cinder --os-auth-type noauth --os-endpoint http://127.0.0.1:$port/v3/$project --os-user-id demo --os-project-id $project list

(create a volume with: ... create --name first 1). Stop with Ctrl-C.
$attach_note

MSG
# Not exec: the tgtd this started is stopped when cinder-all ends.
"$build/bin/cinder-all" --config-file "$var/cinder.conf" &
child=$!
trap 'kill -TERM $child 2>/dev/null || true' INT TERM
wait $child || true
wait $child 2>/dev/null || true
