#!/usr/bin/env bash
# Lints kiosk/openapi.yaml with Redocly's CLI (from the npm registry, with
# the machine's Node.js): errors fail, and so do warnings. Without npx it
# says so and stops; the Go tests validate the document with kin-openapi
# in any case.
set -euo pipefail
cd "$(dirname "$0")/.."
version=2.77.0
if ! command -v npx >/dev/null 2>&1; then
  echo "openapi-lint: skipped: no npx (install Node.js to run redocly lint)"
  exit 0
fi
out=$(cd kiosk && npx --yes "@redocly/cli@$version" lint --config redocly.yaml openapi.yaml 2>&1) || {
  echo "$out" >&2
  echo "openapi-lint: redocly lint found errors" >&2
  exit 1
}
if echo "$out" | grep -q "You have [0-9]* warning"; then
  echo "$out" >&2
  echo "openapi-lint: redocly lint has warnings" >&2
  exit 1
fi
echo "openapi-lint: redocly lint clean"
