package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildInfoString(t *testing.T) {
	const rev = "e6b1988d60082aae04b11490621c5e0ebcfde405"
	for _, c := range []struct {
		b    buildInfo
		want string
	}{
		{buildInfo{Version: "v0.0.0-20261202220657-e6b1988d6008", Revision: rev}, "v0.0.0-20261202220657-e6b1988d6008"},
		{buildInfo{Version: "v0.0.0-20261202220657-e6b1988d6008+dirty", Revision: rev, Modified: true}, "v0.0.0-20261202220657-e6b1988d6008+dirty"},
		{buildInfo{Version: "0.4.0", Revision: rev}, "0.4.0+e6b1988d6008"},
		{buildInfo{Version: "0.4.0", Revision: rev, Modified: true}, "0.4.0+e6b1988d6008+dirty"},
		{buildInfo{Version: "(devel)"}, "(devel)"},
	} {
		assert.Equal(t, c.want, c.b.String())
		assert.LessOrEqual(t, strings.Count(c.b.String(), "e6b1988d6008"), 1, "the commit once")
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"nfcbridge", "version"}, {"nfcbridge", "--version"}} {
		var out bytes.Buffer
		code := run(context.Background(), args, &env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
		assert.Equal(t, 0, code)
		assert.Regexp(t, `^nfcbridge \S+ \(go1\.\S+ \w+/\w+\)\n$`, out.String())
	}
}

// TestManPage: the packaged man page lists every command.
func TestManPage(t *testing.T) {
	b, err := os.ReadFile("../../packaging/deb/nfcbridge.1")
	require.NoError(t, err)
	for name := range commands() {
		assert.Contains(t, string(b), "\n.B "+name+"\n", "packaging/deb/nfcbridge.1 does not list %q", name)
	}
}
