#!/usr/bin/env bash
# The whole test suite: formatting, vet, unit and end-to-end tests with the
# race detector (through pcscd + vpcd), and a short run of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
export PATH=$PATH:/usr/local/go/bin
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
go vet ./...
scripts/fuzz.sh "${FUZZ_BUDGET:-10000x}"
scripts/systemd-check.sh
scripts/openapi-lint.sh
if [ "$(id -u)" -eq 0 ]; then scripts/deb-check.sh; else echo "deb-check skipped: it installs the package, run as root"; fi
# Last, so that its per-package results close the output.
go test -race -count=1 ./...
