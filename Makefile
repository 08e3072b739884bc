# nfcbridge — see README.md.
GO ?= $(shell command -v go || echo /usr/local/go/bin/go)

.PHONY: demo test build bench fuzz setup

## demo: install what is needed, start a virtual passport behind pcscd+vpcd, read it
demo: setup
	scripts/demo.sh

## test: the whole suite (vet, race tests through the real PC/SC stack, short fuzzing)
test:
	scripts/test.sh

setup:
	scripts/setup.sh

build:
	$(GO) build -o bin/nfcbridge ./cmd/nfcbridge

## bench: APDU counts, bytes and modeled read times
bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 3x ./mrtd/ ./vpcd/ ./upload/

## fuzz: a long fuzzing run of every target (FUZZTIME=10m by default)
fuzz:
	scripts/fuzz.sh $${FUZZTIME:-10m}
