package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// systemdEnv is the environment systemd gives the packaged service: a
// credentials directory holding files and a runtime directory.
func systemdEnv(t *testing.T, creds map[string]string) (*env, string, string) {
	t.Helper()
	credDir, runDir := t.TempDir(), t.TempDir()
	for name, v := range creds {
		require.NoError(t, os.WriteFile(filepath.Join(credDir, name), []byte(v), 0o400))
	}
	vars := map[string]string{"CREDENTIALS_DIRECTORY": credDir, "RUNTIME_DIRECTORY": runDir}
	return &env{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), getenv: func(k string) string { return vars[k] }}, credDir, runDir
}

func TestTokenPath(t *testing.T) {
	e, _, runDir := systemdEnv(t, nil)
	assert.Equal(t, filepath.Join(runDir, "token"), tokenPath(e, "", "/state"), "the runtime directory, which the kiosk group reads")
	assert.Equal(t, "/my/token", tokenPath(e, "/my/token", "/state"))

	e, credDir, _ := systemdEnv(t, map[string]string{"api-token": "x"})
	assert.Equal(t, filepath.Join(credDir, "api-token"), tokenPath(e, "", "/state"), "an own token as a credential")

	plain := &env{getenv: func(string) string { return "" }}
	assert.Equal(t, filepath.Join("/state", "token"), tokenPath(plain, "", "/state"))
}

// TestServeNotConfigured: the package installs empty API credentials; the
// daemon then serves without uploads and logs what to fill in, without
// naming any secret.
func TestServeNotConfigured(t *testing.T) {
	e, _, _ := systemdEnv(t, map[string]string{"api-key": "", "api-secret": ""})
	f, err := parseServeFlags(e, nil)
	require.NoError(t, err)
	var log bytes.Buffer
	up, err := serveUploader(e, f, slog.New(slog.NewJSONHandler(&log, nil)))
	require.NoError(t, err)
	assert.Nil(t, up, "no uploader")
	assert.Contains(t, log.String(), "/etc/nfcbridge/credentials/api-key")

	// Without the credential files at all it is a configuration error.
	e, _, _ = systemdEnv(t, nil)
	f, err = parseServeFlags(e, nil)
	require.NoError(t, err)
	_, err = serveUploader(e, f, slog.New(slog.NewJSONHandler(&log, nil)))
	assert.ErrorContains(t, err, "--no-upload")
}
