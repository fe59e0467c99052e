#!/usr/bin/env bash
# A private OpenLDAP slapd on loopback for the LDAP identity tests.
#   slapd-harness.sh start DIR   start slapd on 127.0.0.1 on a free, unusual port from a plain
#                                DIR/slapd.conf (mdb backend; core, cosine, inetorgperson and nis
#                                schemas; a random root password), with the suffix entry in place;
#                                wait until it answers; write DIR/url, DIR/rootdn, DIR/rootpw
#                                (no newline, mode 600: ldapadd -y DIR/rootpw), DIR/suffix,
#                                DIR/port, DIR/pid and DIR/harness (this script's path). With
#                                openssl installed it also offers StartTLS with a throwaway CA:
#                                DIR/cacert is that CA's certificate. Without slapd or ldap-utils
#                                it says why, writes DIR/unavailable and exits 0 (the tests skip).
#   slapd-harness.sh stop DIR    SIGTERM the harness's slapd (by its pid), wait for it, else
#                                SIGKILL it; remove DIR
#   slapd-harness.sh crash DIR   SIGKILL it, keeping its data and port (a directory that went away)
#   slapd-harness.sh resume DIR  start it again on the same port with the same data
#   slapd-harness.sh status DIR  exit 0 when the harness's slapd is running and answers
# The directory allows unauthenticated binds (a DN with an empty password), as Active Directory
# does, so that the tests show the driver refusing an empty password itself. Anonymous users may
# read everything but userPassword, which they may only bind with, and get at most 20 entries
# from a search unless it is paged (a directory's size limit, as Active Directory's 1000).
# Works as root and as any other user (a port above 1024, files under DIR).
set -euo pipefail
cmd=${1:?start|stop|crash|resume|status}
dir=${2:?directory}

slapd_bin=$(command -v slapd || ls /usr/sbin/slapd 2>/dev/null || true)
ldapsearch_bin=$(command -v ldapsearch || true)
ldapadd_bin=$(command -v ldapadd || true)
suffix="dc=cinder,dc=test"
rootdn="cn=admin,$suffix"

# The pid is a running slapd (not another program that reused the pid, not a zombie).
alive() {
  [ -n "${1:-}" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = slapd ] &&
    ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
# A TCP connect to 127.0.0.1:$1 within a second (bash's /dev/tcp; no extra tool needed).
answers_tcp() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
# slapd answers an LDAP search of its root DSE on port $1 within 2 seconds.
answers_ldap() {
  "$ldapsearch_bin" -x -LLL -o nettimeout=2 -l 2 -H "ldap://127.0.0.1:$1/" -b "" -s base namingContexts \
    >/dev/null 2>&1
}
read_file() { if [ -f "$dir/$1" ]; then cat "$dir/$1"; fi; }

# Stops the slapd $1 (SIGTERM: it flushes and exits; SIGKILL after 10 s).
stop_slapd() {
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do alive "$pid" || return 0; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.05; done
}

# A throwaway CA and a server certificate for 127.0.0.1 and localhost (ECDSA P-256, 2 days).
make_tls() {
  local t="$dir/tls"
  mkdir -p "$t"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=libcinder test CA" -keyout "$t/ca.key" -out "$t/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1 &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
      -keyout "$t/server.key" -out "$t/server.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
      >"$t/ext" &&
    openssl x509 -req -in "$t/server.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial -days 2 \
      -out "$t/server.pem" -extfile "$t/ext" >/dev/null 2>&1
}

write_conf() {
  local rootpw=$1 tls=$2
  {
    echo "# Written by scripts/slapd-harness.sh: a throwaway directory for tests."
    echo "include /etc/ldap/schema/core.schema"
    echo "include /etc/ldap/schema/cosine.schema"
    echo "include /etc/ldap/schema/inetorgperson.schema"
    echo "include /etc/ldap/schema/nis.schema"
    echo "pidfile $dir/slapd.pid"
    echo "argsfile $dir/slapd.args"
    echo "allow bind_anon_dn"
    if [ "$tls" = 1 ]; then
      echo "TLSCACertificateFile $dir/tls/ca.pem"
      echo "TLSCertificateFile $dir/tls/server.pem"
      echo "TLSCertificateKeyFile $dir/tls/server.key"
    fi
    [ -d /usr/lib/ldap ] && echo "modulepath /usr/lib/ldap"
    [ -e /usr/lib/ldap/back_mdb.so ] && echo "moduleload back_mdb"
    echo "database mdb"
    echo "maxsize 67108864"
    echo "suffix \"$suffix\""
    echo "rootdn \"$rootdn\""
    echo "rootpw $rootpw"
    echo "directory $dir/db"
    echo "index objectClass eq"
    echo "limits anonymous size.soft=20 size.hard=20 size.prtotal=unlimited"
    echo "access to attrs=userPassword by self write by anonymous auth by * none"
    echo "access to * by * read"
  } >"$dir/slapd.conf"
}

# Starts slapd on $1 from DIR/slapd.conf; 0 when it answers within 5 s.
launch() {
  local port=$1 pid
  # -d 0 keeps slapd in the foreground (its pid is $!); setsid detaches it from the caller's
  # terminal and process group; no descriptor of the caller stays open in it.
  setsid "$slapd_bin" -h "ldap://127.0.0.1:$port/" -f "$dir/slapd.conf" -d 0 </dev/null >>"$dir/slapd.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do  # usually ready in 0.2 s
    # kill -0, not alive(): until the child has exec'd, its name is still bash's.
    kill -0 "$pid" 2>/dev/null || return 1
    if answers_ldap "$port"; then
      echo "$pid" >"$dir/pid"
      return 0
    fi
    sleep 0.05
  done
  stop_slapd "$pid"
  return 1
}

case "$cmd" in
  start)
    pid=$(read_file pid)
    port=$(read_file port)
    if alive "$pid" && [ -n "$port" ] && [ -f "$dir/url" ] && answers_ldap "$port"; then
      exit 0  # already running
    fi
    "$0" stop "$dir"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ -z "$slapd_bin" ] || [ -z "$ldapsearch_bin" ] || [ -z "$ldapadd_bin" ]; then
      echo "slapd or ldap-utils is not installed (apt-get install slapd ldap-utils): LDAP tests are skipped" |
        tee "$dir/unavailable" >&2
      exit 0
    fi
    for f in core cosine inetorgperson nis; do
      if [ ! -f "/etc/ldap/schema/$f.schema" ]; then
        echo "slapd's schema /etc/ldap/schema/$f.schema is missing: LDAP tests are skipped" |
          tee "$dir/unavailable" >&2
        exit 0
      fi
    done
    rootpw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    tls=0
    if command -v openssl >/dev/null && make_tls; then tls=1; fi
    for attempt in $(seq 1 12); do
      rm -rf "$dir/db" && mkdir -p "$dir/db"
      write_conf "$rootpw" "$tls"
      # An unusual port (not 389/636, not in the ephemeral range 32768-60999).
      port=$((21000 + (RANDOM % 9000)))
      if answers_tcp "$port"; then continue; fi
      if launch "$port"; then
        url="ldap://127.0.0.1:$port/"
        (umask 077 && printf '%s' "$rootpw" >"$dir/rootpw")
        printf '%s\n' "$url" >"$dir/url"
        printf '%s\n' "$rootdn" >"$dir/rootdn"
        printf '%s\n' "$suffix" >"$dir/suffix"
        printf '%s\n' "$port" >"$dir/port"
        printf '%s\n' "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" >"$dir/harness"
        [ "$tls" = 1 ] && cp "$dir/tls/ca.pem" "$dir/cacert"
        if ! printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: cinder\no: libcinder tests\n' \
          "$suffix" | "$ldapadd_bin" -x -H "$url" -D "$rootdn" -y "$dir/rootpw" >>"$dir/slapd.log" 2>&1; then
          echo "slapd-harness: cannot add the suffix entry $suffix; log:" >&2
          cat "$dir/slapd.log" >&2
          "$0" stop "$dir"
          exit 1
        fi
        echo "slapd-harness: slapd $(cat "$dir/pid") on $url (suffix $suffix, tls $([ "$tls" = 1 ] && echo StartTLS || echo none))"
        exit 0
      fi
      echo "slapd-harness: port $port did not work (attempt $attempt): $(tail -n 1 "$dir/slapd.log" 2>/dev/null)" >&2
    done
    echo "slapd-harness: could not start slapd on loopback; last log:" >&2
    cat "$dir/slapd.log" >&2
    exit 1
    ;;
  stop)
    stop_slapd "$(read_file pid)"
    rm -rf "$dir"
    ;;
  crash)
    pid=$(read_file pid)
    if alive "$pid"; then
      kill -KILL "$pid"
      for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
    fi
    ;;
  resume)
    port=$(read_file port)
    if [ -z "$port" ] || [ ! -f "$dir/slapd.conf" ]; then
      echo "slapd-harness: no harness in $dir" >&2
      exit 1
    fi
    dir=$(cd "$dir" && pwd)
    launch "$port" || { echo "slapd-harness: slapd did not start again on port $port; log:" >&2; cat "$dir/slapd.log" >&2; exit 1; }
    ;;
  status)
    pid=$(read_file pid)
    port=$(read_file port)
    alive "$pid" && [ -n "$port" ] && answers_ldap "$port"
    ;;
  *) echo "usage: $0 start|stop|crash|resume|status DIR" >&2; exit 2 ;;
esac
