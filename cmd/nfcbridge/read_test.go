package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPersonalDataFlags checks that each flag that puts personal data in
// the process list is warned about at run time and in --help, that the
// warning holds none of the data, and that the environment is a quiet way.
func TestPersonalDataFlags(t *testing.T) {
	for _, tc := range []struct {
		flag string
		args []string
	}{
		{"--mrz", []string{"--mrz", specimenMRZ}},
		{"--document-number", []string{"--document-number", "L898902C3", "--date-of-birth", "740812", "--date-of-expiry", "120415"}},
		{"--can", []string{"--can", "123456"}},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			// No --out: the command stops after the flags, before any reader.
			r := runCLI(t, append([]string{"read"}, tc.args...)...)
			assert.Equal(t, 2, r.code)
			warning, _, _ := strings.Cut(r.stderr, "\n")
			assert.True(t, strings.HasPrefix(warning, "warning: "), "stderr %q", r.stderr)
			assert.Contains(t, warning, tc.flag)
			assert.Contains(t, r.stderr, "process list")
			assert.Contains(t, r.stderr, "--mrz-file -")
			assertPrivate(t, r.stderr)
			assert.NotContains(t, r.stderr, "123456")
		})
	}
	t.Run("all three fields named", func(t *testing.T) {
		r := runCLI(t, "read", "--document-number", "L898902C3", "--date-of-birth", "740812", "--date-of-expiry", "120415")
		for _, f := range []string{"--document-number", "--date-of-birth", "--date-of-expiry"} {
			assert.Contains(t, r.stderr, f)
		}
	})
	t.Run("no warning for --mrz-file -", func(t *testing.T) {
		r := runCLIStdin(t, specimenMRZ, "read", "--mrz-file", "-")
		assert.NotContains(t, r.stderr, "warning")
	})
	t.Run("environment", func(t *testing.T) {
		var errb bytes.Buffer
		vars := map[string]string{envMRZ: specimenMRZ, envCAN: "123456"}
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		o, err := parseReadFlags(e, []string{"--out", t.TempDir()})
		require.NoError(t, err)
		assert.Equal(t, "123456", o.key.CAN)
		assert.NotZero(t, o.key.MRZ)
		assert.Empty(t, errb.String())
	})
	t.Run("help", func(t *testing.T) {
		r := runCLI(t, "read", "--help")
		for _, name := range exposing {
			i := strings.Index(r.stderr, "-"+name+" ")
			require.GreaterOrEqual(t, i, 0, "--%s in help", name)
			usage := r.stderr[i:]
			if j := strings.Index(usage[1:], "\n  -"); j >= 0 {
				usage = usage[:j+1]
			}
			assert.Contains(t, usage, "process list", "--%s help", name)
		}
	})
}
