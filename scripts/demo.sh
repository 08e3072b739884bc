#!/usr/bin/env bash
# The demo: a virtual ePassport (ICAO specimen data) behind the real PC/SC
# stack (pcscd + vpcd), read by `nfcbridge read` exactly as a real passport
# on a USB reader would be.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
if ! scripts/setup.sh; then
  echo "demo: pcscd/vpcd could not be set up (run 'make setup' as root); the daemon demo runs with an in-process chip" >&2
  go run ./cmd/nfcbridge demo --in-process
  exit
fi
go build -o bin/nfcbridge ./cmd/nfcbridge
out=$(mktemp -d /tmp/nfcbridge-demo.XXXXXX)
bin/nfcbridge chip --slot 0 >/dev/null &
chip=$!
trap 'kill $chip 2>/dev/null; wait $chip 2>/dev/null || true' EXIT
# ICAO 9303 Part 4 specimen MRZ: not a real person.
mrz='P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
L898902C36UTO7408122F1204159ZE184226B<<<<<10'
echo "== nfcbridge readers"
sleep 0.5
bin/nfcbridge readers
echo "== nfcbridge read --reader 'Virtual PCD 00 00' --mrz ... --out $out"
bin/nfcbridge read --reader "Virtual PCD 00 00" --mrz "$mrz" --out "$out" --timeout 30s
echo "== files"
ls -l "$out"
kill $chip 2>/dev/null; wait $chip 2>/dev/null || true
trap - EXIT
echo
echo "== nfcbridge demo: the daemon, driven through its local API as a kiosk UI would"
bin/nfcbridge demo
