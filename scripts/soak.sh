#!/usr/bin/env bash
# Long runs of the fault tests, with their tallies:
#   - the crash-consistency test: the daemon killed with SIGKILL at random
#     points of every phase of a read, hundreds of times
#     (CRASH_POINTS=300 by default; CRASH_SEED replays a run);
#   - pcscd stopped with SIGTERM mid-transmit and mid-read
#     (PCSCD_RESTARTS=20 each).
# Each test runs against a private pcscd, so the system one is not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH=$PATH:/usr/local/go/bin
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
run() {
  if ! "$@" >"$log" 2>&1; then
    status=1
    grep -v '^\s*{"time"' "$log" | tail -40
  fi
  grep -Eo '(crash tally|pcscd restarts).*' "$log" || true
}
export NFCBRIDGE_CRASH_POINTS=${CRASH_POINTS:-300}
if [ -n "${CRASH_SEED:-}" ]; then export NFCBRIDGE_CRASH_SEED=$CRASH_SEED; fi
export NFCBRIDGE_PCSCD_RESTARTS=${PCSCD_RESTARTS:-20}
run go test -count=1 -timeout 0 -v -run '^TestCrashConsistency$' ./cmd/nfcbridge/
run go test -count=1 -timeout 0 -v -run '^TestPCSCDStopMidTransmit$' ./reader/
run go test -count=1 -timeout 0 -v -run '^TestE2EPCSCDStopMidRead$' ./kiosk/
exit $status
