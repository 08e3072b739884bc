#!/usr/bin/env bash
# Installs what nfcbridge needs on Debian (pcscd, the PC/SC headers, the
# vpcd virtual reader driver, cgo tool chain; with --browser, chromium) and makes sure pcscd runs with
# the vpcd readers loaded. Idempotent; run as root or with sudo available.
set -euo pipefail

pkgs=(pcscd libpcsclite-dev vsmartcard-vpcd pkg-config gcc libc6-dev)
# --browser (the test suite): chromium, for the reference kiosk page's test
# in a real headless browser.
if [ "${1:-}" = "--browser" ]; then pkgs+=(chromium); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    if [ ${#missing[@]} -gt 0 ]; then
      echo "setup: missing packages; run as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH=$PATH:/usr/local/go/bin
fi
command -v go >/dev/null 2>&1 || { echo "setup: Go 1.26 is required (https://go.dev/dl)" >&2; exit 1; }

# pcscd must run for the vpcd readers to exist. Under systemd, pcscd.socket
# starts it on demand; elsewhere (containers, CI) start it ourselves. A pcscd
# that started before vpcd was installed has no vpcd readers: restart it.
# Look at the listening socket without connecting: a connection to vpcd is a
# card insertion.
vpcd_listening() { awk '$2 ~ /:8C7B$/ && $4 == "0A" {found=1} END {exit !found}' /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
if pgrep -x pcscd >/dev/null && ! vpcd_listening; then
  echo "setup: restarting pcscd to load the vpcd driver" >&2
  "${sudo[@]}" pkill -x pcscd || true
  for _ in $(seq 50); do pgrep -x pcscd >/dev/null || break; sleep 0.1; done
fi
if ! pgrep -x pcscd >/dev/null; then
  if [ -d /run/systemd/system ] && systemctl list-unit-files pcscd.socket >/dev/null 2>&1; then
    "${sudo[@]}" systemctl start pcscd.socket pcscd.service
  else
    "${sudo[@]}" mkdir -p /run/pcscd
    "${sudo[@]}" pcscd
  fi
fi
for _ in $(seq 50); do vpcd_listening && break; sleep 0.1; done
vpcd_listening || { echo "setup: pcscd runs but the vpcd reader is not listening on 127.0.0.1:35963" >&2; exit 1; }
