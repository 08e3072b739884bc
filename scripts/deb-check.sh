#!/usr/bin/env bash
# Builds the Debian package, runs lintian on it (no errors, no warnings),
# then, as root, installs, purges, reinstalls and purges it again, checking
# what each step must leave behind. Installs lintian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "deb-check: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs and purges the package)"
if dpkg-query -W -f='${Status}' nfcbridge 2>/dev/null | grep -q "install ok installed"; then
  fail "nfcbridge is installed on this machine; this check would purge it"
fi
export DEBIAN_FRONTEND=noninteractive
if ! command -v lintian >/dev/null 2>&1; then
  echo "deb-check: installing lintian" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends lintian >/dev/null
fi

deb=$(scripts/deb.sh)
echo "== lintian $deb"
lintian --fail-on error,warning "$deb" 2>&1 | grep -v 'running with root privileges' || true
lintian --fail-on error,warning "$deb" >/dev/null 2>&1 || fail "lintian reports errors or warnings"
echo "clean"

creds=/etc/nfcbridge/credentials
installed() {
  apt-get install -y -qq --reinstall --no-install-recommends "./$deb" >/dev/null 2>&1
  dpkg-query -W -f='${Status}' nfcbridge | grep -q "install ok installed" || fail "not installed"
  /usr/bin/nfcbridge version | grep -q "^nfcbridge $(dpkg-query -W -f='${Version}' nfcbridge)[+ ]" ||
    fail "nfcbridge version does not name the package version: $(/usr/bin/nfcbridge version)"
  getent passwd nfcbridge >/dev/null || fail "no nfcbridge user"
  [ "$(stat -c '%a %U' /etc/nfcbridge)" = "755 root" ] || fail "/etc/nfcbridge is not 0755 root"
  [ "$(stat -c '%a %U' $creds)" = "700 root" ] || fail "$creds is not 0700 root"
  [ "$(stat -c '%a %U %s' $creds/outbox-key)" = "600 root 65" ] || fail "no 32-byte hex outbox key 0600"
  for f in api-key api-secret; do [ -f "$creds/$f" ] || fail "no $creds/$f"; done
  [ -f /etc/nfcbridge/nfcbridge.conf ] || fail "no config file"
  [ -d /etc/nfcbridge/trust ] || fail "no trust directory"
  [ -L /etc/systemd/system/sockets.target.wants/nfcbridge.socket ] || fail "nfcbridge.socket not enabled"
  NFCBRIDGE_CONFIG=/etc/nfcbridge/nfcbridge.conf /usr/bin/nfcbridge serve --help >/dev/null 2>&1 ||
    fail "serve rejects the packaged config"
}
purged() {
  dpkg --purge nfcbridge >/dev/null
  ! dpkg-query -W -f='${Status}' nfcbridge 2>/dev/null | grep -q "installed" || fail "still installed"
  for p in /usr/bin/nfcbridge /etc/nfcbridge /var/lib/nfcbridge /etc/systemd/system/sockets.target.wants/nfcbridge.socket; do
    [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p left after purge"
  done
}

echo "== install, purge, reinstall, purge"
installed
key=$(cat $creds/outbox-key)
echo 'api-key-kept-on-upgrade' >$creds/api-key
installed # an upgrade in place keeps the keys and the operator's credentials
[ "$(cat $creds/outbox-key)" = "$key" ] || fail "reinstall replaced the outbox key"
grep -q api-key-kept-on-upgrade $creds/api-key || fail "reinstall replaced the API key"
purged
installed
[ "$(cat $creds/outbox-key)" != "$key" ] || fail "purge kept the outbox key"
purged
echo "ok"
