#!/usr/bin/env bash
# Installs the Debian packages libcinder needs to build, test and run.
# Idempotent: when every package is already installed, apt is not touched.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config ccache
  libboost-dev libboost-program-options-dev libzmq3-dev cppzmq-dev libsoci-dev libsoci-postgresql4.0
  libpoco-dev libsimdjson-dev libspdlog-dev doctest-dev libiscsi-dev pybind11-dev python3-dev libzstd-dev
  zlib1g-dev libssl-dev libpq-dev libsqlite3-dev libldap-dev libyaml-cpp-dev libcrypt-dev libbz2-dev libxxhash-dev
  # tests and tools
  python3-pytest postgresql python3-cinderclient python3-openstackclient python3-zstd
  tgt slapd ldap-utils libiscsi-bin xfsprogs wrk procps clang-14 clang-format libfuzzer-14-dev libclang-rt-14-dev
  # Cinder's own API tests (Tempest's volume API suite, tests/e2e/test_tempest.py)
  python3-tempest cinder-tempest-plugin
  # the dashboard's browser tests (driven over the DevTools pipe) and the strict /metrics parser
  chromium-headless-shell prometheus
)
# The dashboard vendors its front-end library from the npm registry at build time (npm pack).
# Debian's npm is installed only when no npm is on PATH (NodeSource's nodejs provides one).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages and not root; run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Services installed for the tests (slapd, postgresql, tgt) must not start system-wide: the tests
# start their own on loopback and stop them by pid.
made_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
