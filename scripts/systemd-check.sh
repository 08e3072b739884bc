#!/usr/bin/env bash
# Checks the systemd units in systemd/: `systemd-analyze verify` must be
# clean and `systemd-analyze security --offline=yes` must rate
# nfcbridge.service at an exposure of 2.0 or lower. Also dry-runs the
# sysusers.d and tmpfiles.d entries. Works without systemd running as PID 1
# (containers, CI); installs the systemd package when systemd-analyze is
# missing. Prints the exposure score.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
max_exposure=20 # tenths: 2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "systemd-check: systemd-analyze missing; run as root: apt-get install -y systemd" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "systemd-check: installing systemd (for systemd-analyze)" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends systemd >/dev/null
fi

tmp=$(mktemp -d /tmp/nfcbridge-systemd-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# verify checks that ExecStart= names an executable: build one and point the
# unit at it.
go build -o "$tmp/nfcbridge" ./cmd/nfcbridge
cp systemd/nfcbridge.service systemd/nfcbridge.socket "$tmp/"
sed -i "s|^ExecStart=/usr/bin/nfcbridge|ExecStart=$tmp/nfcbridge|" "$tmp/nfcbridge.service"

echo "== systemd-analyze verify"
out=$(cd "$tmp" && systemd-analyze verify --man=no ./nfcbridge.socket ./nfcbridge.service 2>&1) || {
  echo "$out" >&2
  exit 1
}
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "systemd-check: systemd-analyze verify is not clean" >&2
  exit 1
fi
echo "clean"

echo "== systemd-analyze security --offline=yes"
report=$(cd "$tmp" && systemd-analyze security --offline=yes --no-pager ./nfcbridge.service 2>&1) || true
echo "$report" | grep -E '^[✗]' || true
score_line=$(echo "$report" | grep -E 'Overall exposure level' || true)
[ -n "$score_line" ] || { echo "$report" >&2; echo "systemd-check: no exposure score" >&2; exit 1; }
echo "$score_line"
(cd "$tmp" && systemd-analyze security --offline=yes --threshold="$max_exposure" --no-pager ./nfcbridge.service >/dev/null 2>&1) || {
  echo "systemd-check: exposure above $((max_exposure / 10)).$((max_exposure % 10))" >&2
  exit 1
}

echo "== sysusers.d and tmpfiles.d"
mkdir -p "$tmp/root/etc"
systemd-sysusers --root="$tmp/root" - <systemd/nfcbridge.sysusers.conf
grep -q '^nfcbridge:' "$tmp/root/etc/passwd" || { echo "systemd-check: sysusers.d created no nfcbridge user" >&2; exit 1; }
systemd-tmpfiles --root="$tmp/root" --create - <systemd/nfcbridge.tmpfiles.conf
[ "$(stat -c %a "$tmp/root/etc/nfcbridge")" = 755 ] || { echo "systemd-check: /etc/nfcbridge not created 0755" >&2; exit 1; }
[ "$(stat -c %a "$tmp/root/etc/nfcbridge/credentials")" = 700 ] || { echo "systemd-check: /etc/nfcbridge/credentials not created 0700" >&2; exit 1; }
echo "ok"
