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
ds=$(mktemp -d /tmp/nfcbridge-demo-chip.XXXXXX)
rmdir "$ds"
# A specimen with Chip Authentication (ECDH brainpoolP256r1, AES-128) and
# Active Authentication (RSA-2048), signed under a specimen CSCA (CSCA.cer).
bin/nfcbridge chip --generate "$ds" --ca brainpoolP256r1 --aa rsa-2048 >/dev/null
bin/nfcbridge chip --slot 0 --dataset "$ds" >/dev/null &
chip=$!
trap 'kill $chip 2>/dev/null; wait $chip 2>/dev/null || true; rm -rf "$ds"' EXIT
# ICAO 9303 Part 4 specimen MRZ: not a real person.
mrz='P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
L898902C36UTO7408122F1204159ZE184226B<<<<<10'
echo "== nfcbridge readers"
sleep 0.5
bin/nfcbridge readers
echo "== nfcbridge read --reader 'Virtual PCD 00 00' --mrz-file - --trust $ds/CSCA.cer --out $out"
printf '%s\n' "$mrz" | bin/nfcbridge read --reader "Virtual PCD 00 00" --mrz-file - --trust "$ds/CSCA.cer" --out "$out" --timeout 30s
echo "== files"
ls -l "$out"
echo "== nfcbridge verify --dir $out --trust $ds/CSCA.cer (again, without the chip)"
bin/nfcbridge verify --dir "$out" --trust "$ds/CSCA.cer"
kill $chip 2>/dev/null; wait $chip 2>/dev/null || true
rm -rf "$ds"
trap - EXIT
echo
echo "== nfcbridge demo: the daemon, driven through its local API as a kiosk UI would"
bin/nfcbridge demo
