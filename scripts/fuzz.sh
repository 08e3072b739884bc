#!/usr/bin/env bash
# Runs every fuzz target briefly: CI's smoke run. The default budget is a
# count of executions (10000x) rather than a duration: with a duration, Go
# 1.26's fuzz coordinator can report a spurious "context deadline exceeded"
# at the deadline (golang/go#75804, fixed in Go 1.27).
# For a long run: scripts/fuzz.sh 10m   (or 5000000x)
set -euo pipefail
budget=${1:-10000x}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
  for target in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
    start=$SECONDS
    if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" -fuzzminimizetime 2s "$pkg" >"$log" 2>&1; then
      cat "$log"
      exit 1
    fi
    echo "fuzz: $pkg $target: $(grep -o 'execs: [0-9]*' "$log" | tail -1) in $((SECONDS - start))s"
  done
done
