package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/kiosk"
)

// syncBuffer is a bytes.Buffer safe for the demo's goroutines.
type demoOutput struct{ stdout, stderr bytes.Buffer }

func runDemoTest(t *testing.T, args ...string) (*demoOutput, error) {
	t.Helper()
	out := &demoOutput{}
	e := &env{stdout: &out.stdout, stderr: &out.stderr, getenv: func(string) string { return "" }}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := runDemo(ctx, e, args)
	t.Logf("demo %v:\n%s", args, out.stderr.String())
	return out, err
}

// checkDemo asserts that the demo printed a done read, uploaded, with the
// progress drawn.
func checkDemo(t *testing.T, out *demoOutput, reader string) {
	t.Helper()
	var st kiosk.Status
	require.NoError(t, json.Unmarshal(out.stdout.Bytes(), &st), "stdout %s", out.stdout.String())
	assert.Equal(t, kiosk.Done, st.State)
	assert.Equal(t, reader, st.Reader)
	require.NotNil(t, st.Result)
	assert.True(t, st.Result.SODHashesValid)
	assert.Contains(t, string(st.Result.Media), st.SessionID)
	msg := out.stderr.String()
	for _, s := range []string{"waiting_for_card", "authenticating", "reading  [", "100%", "uploading", "done", "demo: done in", "passive authentication: valid"} {
		assert.Contains(t, msg, s)
	}
	for _, s := range []string{"L898902C3", "ERIKSSON", "740812"} {
		assert.NotContains(t, msg+out.stdout.String(), s)
	}
}

func TestDemoInProcess(t *testing.T) {
	out, err := runDemoTest(t, "--in-process")
	require.NoError(t, err)
	checkDemo(t, out, inProcessReader)
}

func TestDemoVPCD(t *testing.T) {
	pcsctest.Require(t)
	pcsctest.Lock(t)
	out, err := runDemoTest(t)
	require.NoError(t, err)
	checkDemo(t, out, pcsctest.ReaderName(0))
	assert.Contains(t, out.stderr.String(), "through pcscd and vpcd")
}

func TestDemoFlags(t *testing.T) {
	for _, args := range [][]string{{"--slot", "-1"}, {"--timeout", "0s"}, {"extra"}} {
		_, err := runDemoTest(t, args...)
		assert.ErrorAs(t, err, new(usageError), "%v", args)
	}
	_, err := runDemoTest(t, "-h")
	assert.True(t, strings.Contains(err.Error(), "help"))
}
