# nfcbridge — see README.md.
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)

.PHONY: demo test build bench fuzz setup systemd-check deb deb-check soak

## demo: install what is needed; read a virtual passport behind pcscd+vpcd with
## `nfcbridge read`, then drive a read + upload through the daemon's local API
demo:
	scripts/demo.sh

## test: the whole suite (vet, race tests through the real PC/SC stack, short fuzzing)
test:
	scripts/test.sh

setup:
	scripts/setup.sh

## systemd-check: systemd-analyze verify and security (exposure <= 2.0)
systemd-check:
	scripts/systemd-check.sh

build:
	$(GO) build -buildvcs=auto -o bin/nfcbridge ./cmd/nfcbridge

## deb: the Debian package bin/nfcbridge_VERSION_ARCH.deb (dpkg-deb)
deb:
	scripts/deb.sh

## deb-check: lintian, then install, purge, reinstall and purge it (as root)
deb-check:
	scripts/deb-check.sh

## bench: APDU counts, bytes and modeled read times
bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 3x ./mrtd/ ./vpcd/ ./upload/ ./pace/

## fuzz: a long fuzzing run of every target (FUZZ_BUDGET=10m by default)
fuzz:
	scripts/fuzz.sh $${FUZZ_BUDGET:-10m}

## soak: the fault tests at length, with tallies: SIGKILL at CRASH_POINTS=300
## random points of a read, pcscd SIGTERM mid-read PCSCD_RESTARTS=20 times
soak:
	scripts/soak.sh
