#!/usr/bin/env bash
# A private tgtd (user-space iSCSI target) on loopback for the tests, the bench and `make run`.
#   tgtd-harness.sh start DIR   start tgtd on 127.0.0.1 on a free, unusual port with its control
#                               socket in a new short folder under /tmp (sun_path is 108 bytes);
#                               write DIR/env (shell KEY=VALUE lines: TGTD_PID, TGT_IPC_SOCKET,
#                               TGTD_PORT, TGTD_PORTAL, TGTD_SOCKET_DIR) and the single-value files
#                               DIR/pid, DIR/port, DIR/socket. Without tgtd installed it says why,
#                               writes DIR/unavailable and exits 0 (the tests then skip).
#   tgtd-harness.sh stop DIR    delete every target (--force), ask tgtd to exit (system delete),
#                               wait for its pid, else SIGKILL that pid; remove the socket folder
#                               and DIR
#   tgtd-harness.sh status DIR  exit 0 when the harness's tgtd is running and its portal answers
# tgtadm finds this tgtd through `TGT_IPC_SOCKET=<socket> tgtadm ...` (source DIR/env).
# Works as root and as any other user (a port above 1024, a socket folder it owns). tgtd ignores
# SIGTERM and keeps running silently when its portal cannot bind: both are handled here.
set -euo pipefail
cmd=${1:?start|stop|status}
dir=${2:?directory}

tgtd_bin=$(command -v tgtd || ls /usr/sbin/tgtd 2>/dev/null || true)
tgtadm_bin=$(command -v tgtadm || ls /usr/sbin/tgtadm 2>/dev/null || true)

# The pid is a running tgtd (not another program that reused the pid, not a zombie waiting for
# its parent: tgtd is reparented, and a container's init may reap it late).
alive() {
  [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = tgtd ] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
adm() { TGT_IPC_SOCKET="$socket" "$tgtadm_bin" "$@"; }
# A TCP connect to 127.0.0.1:$1 within a second (bash's /dev/tcp; no extra tool needed).
answers() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# The portal is this tgtd's: tgtd lists it, nothing in its log says the bind failed, and it answers.
portal_ok() {
  adm --lld iscsi --op show --mode portal 2>/dev/null | grep -q "Portal: 127.0.0.1:$1," &&
    ! grep -q "unable to bind" "$dir/tgtd.log" 2>/dev/null && answers "$1"
}
load_env() {
  pid="" socket="" port="" sockdir=""
  if [ -f "$dir/env" ]; then
    pid=$(sed -n 's/^TGTD_PID=//p' "$dir/env")
    socket=$(sed -n 's/^TGT_IPC_SOCKET=//p' "$dir/env")
    port=$(sed -n 's/^TGTD_PORT=//p' "$dir/env")
    sockdir=$(sed -n 's/^TGTD_SOCKET_DIR=//p' "$dir/env")
  fi
}

# Stops the tgtd $pid listening on control socket $socket; removes $sockdir.
stop_tgtd() {
  if alive "$pid"; then
    if [ -n "$socket" ] && [ -n "$tgtadm_bin" ]; then
      for tid in $(adm --lld iscsi --op show --mode target 2>/dev/null | sed -n 's/^Target \([0-9]*\):.*/\1/p'); do
        adm --lld iscsi --op delete --mode target --tid "$tid" --force >/dev/null 2>&1 || true
      done
      adm --lld iscsi --mode system --op delete >/dev/null 2>&1 || true
    fi
    for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.05; done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do alive "$pid" || break; sleep 0.05; done
    fi
  fi
  case "$sockdir" in /tmp/tgt??????) rm -rf "$sockdir" ;; esac
}

case "$cmd" in
  start)
    load_env
    if alive "$pid" && [ -n "$port" ] && portal_ok "$port"; then
      exit 0  # already running
    fi
    "$0" stop "$dir"
    mkdir -p "$dir"
    if [ -z "$tgtd_bin" ] || [ -z "$tgtadm_bin" ]; then
      echo "tgtd is not installed (apt-get install tgt): iSCSI tests are skipped" | tee "$dir/unavailable" >&2
      exit 0
    fi
    for attempt in $(seq 1 12); do
      sockdir=$(mktemp -d /tmp/tgtXXXXXX)
      socket="$sockdir/s"
      # An unusual port (not 3260, not in the ephemeral range 32768-60999).
      port=$((21000 + (RANDOM % 9000)))
      if answers "$port"; then rm -rf "$sockdir"; continue; fi
      # -f keeps tgtd in the foreground (its pid is $!); setsid detaches it from the caller's
      # terminal and process group; no descriptor of the caller stays open in it.
      TGT_IPC_SOCKET="$socket" setsid "$tgtd_bin" -f --iscsi "portal=127.0.0.1:$port" \
        </dev/null >"$dir/tgtd.log" 2>&1 &
      pid=$!
      ok=0
      for _ in $(seq 1 100); do  # up to 5 s; usually ready in < 0.5 s
        alive "$pid" || break
        if [ -S "$socket.0" ] && portal_ok "$port"; then ok=1; break; fi
        sleep 0.05
      done
      if [ "$ok" = 1 ]; then
        {
          echo "TGTD_PID=$pid"
          echo "TGT_IPC_SOCKET=$socket"
          echo "TGTD_PORT=$port"
          echo "TGTD_PORTAL=127.0.0.1:$port"
          echo "TGTD_SOCKET_DIR=$sockdir"
        } >"$dir/env"
        echo "$pid" >"$dir/pid"
        echo "$port" >"$dir/port"
        echo "$socket" >"$dir/socket"
        echo "tgtd-harness: tgtd $pid on 127.0.0.1:$port (TGT_IPC_SOCKET=$socket)"
        exit 0
      fi
      echo "tgtd-harness: port $port did not work (attempt $attempt): $(grep -m1 -e bind -e error "$dir/tgtd.log" || tail -n 1 "$dir/tgtd.log")" >&2
      stop_tgtd
    done
    echo "tgtd-harness: could not start tgtd on loopback; last log:" >&2
    cat "$dir/tgtd.log" >&2
    exit 1
    ;;
  stop)
    load_env
    stop_tgtd
    rm -rf "$dir"
    ;;
  status)
    load_env
    alive "$pid" && [ -n "$port" ] && portal_ok "$port"
    ;;
  *) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
esac
