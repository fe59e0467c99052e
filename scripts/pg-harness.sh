#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests.
#   pg-harness.sh start DIR   initdb in a new folder under /tmp (the postgres user must reach
#                             it, which a work tree under /root does not allow), start it on a
#                             free port, create cinder_test, write the URL to DIR/url
#   pg-harness.sh stop DIR    stop the cluster and remove it and DIR
#   pg-harness.sh crash DIR   stop it as a crash would (pg_ctl -m immediate), keeping its data
#   pg-harness.sh resume DIR  start a crashed cluster again, on the same port (crash recovery)
# With PG_HARNESS_DURABLE=1, start makes a cluster that loses no commit in a crash (fsync,
# synchronous_commit and full_page_writes on); otherwise it trades that for speed.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-harness: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "$cmd" in
  start)
    if [ -f "$dir/url" ] && [ -f "$dir/cluster" ] && \
       as_pg "$bin/pg_ctl" -D "$(cat "$dir/cluster")/data" status >/dev/null 2>&1; then
      exit 0  # already running
    fi
    "$0" stop "$dir"
    mkdir -p "$dir"
    cluster=$(mktemp -d /tmp/cinder-pg-XXXXXX)
    echo "$cluster" > "$dir/cluster"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$cluster"
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_pg "$bin/initdb" -D "$cluster/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    if [ "${PG_HARNESS_DURABLE:-0}" = 1 ]; then
      durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    else
      durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    echo "-c listen_addresses=127.0.0.1 -p $port -k $cluster $durability" > "$dir/options"
    as_pg "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -o "$(cat "$dir/options")" \
      start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres cinder_test
    # No Kerberos here: gssencmode=disable spares libpq probing for GSS credentials (and
    # loading the Kerberos libraries) on every connection, as docs/operators.md advises.
    echo "postgresql://postgres@127.0.0.1:$port/cinder_test?gssencmode=disable" > "$dir/url"
    echo "pg-harness: PostgreSQL on 127.0.0.1:$port ($cluster)"
    ;;
  stop)
    if [ -f "$dir/cluster" ]; then
      cluster=$(cat "$dir/cluster")
      if [ -d "$cluster/data" ]; then
        as_pg "$bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1 || true
      fi
      case "$cluster" in /tmp/cinder-pg-*) rm -rf "$cluster" ;; esac
    fi
    rm -rf "$dir"
    ;;
  crash)
    as_pg "$bin/pg_ctl" -D "$(cat "$dir/cluster")/data" -m immediate stop >/dev/null
    ;;
  resume)
    cluster=$(cat "$dir/cluster")
    as_pg "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -o "$(cat "$dir/options")" \
      start >/dev/null || { cat "$cluster/server.log" >&2; exit 1; }
    ;;
  *) echo "usage: $0 start|stop|crash|resume DIR" >&2; exit 2 ;;
esac
