package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// packageVersion is set by the Debian package build
// (-ldflags "-X main.packageVersion=…"); empty in a plain go build.
var packageVersion string

// buildInfo is what the binary knows of its own build.
type buildInfo struct {
	Version  string // the package version, else the module version
	Revision string // VCS commit, "" when unknown
	Modified bool   // built from a tree with uncommitted changes
	Go       string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: packageVersion, Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		if b.Version == "" {
			b.Version = "unknown"
		}
		return b
	}
	if b.Version == "" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the version with the commit once: Go stamps a pseudo-version
// (v0.0.0-DATE-COMMIT) that already holds it.
func (b buildInfo) String() string {
	v := b.Version
	if short := shortRevision(b.Revision); short != "" && !strings.Contains(v, short) {
		v += "+" + short
	}
	if b.Modified && !strings.Contains(v, "dirty") {
		v += "+dirty"
	}
	return v
}

func shortRevision(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}

// version is the one-word version reported by the API and the logs.
func version() string { return readBuildInfo().String() }

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "version")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	b := readBuildInfo()
	fmt.Fprintf(e.stdout, "nfcbridge %s (%s %s/%s)\n", b, b.Go, runtime.GOOS, runtime.GOARCH)
	return nil
}
