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
CONF
"$build/bin/cinder-manage" --config-file "$var/cinder.conf" db sync
project=demo
cat <<MSG

libcinder is starting: Block Storage API v3 at http://127.0.0.1:$port (noauth, state in $var).
In another shell, use the stock client:

  cinder --os-auth-type noauth --os-endpoint http://127.0.0.1:$port/v3/$project --os-user-id demo --os-project-id $project list

(create a volume with: ... create --name first 1). Stop with Ctrl-C.

MSG
exec "$build/bin/cinder-all" --config-file "$var/cinder.conf"
