package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
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

// TestUIURL: ui-url, with the config file the daemon uses, prints a URL
// whose one-time code the page trades for the token, once.
func TestUIURL(t *testing.T) {
	pcsctest.Require(t) // serve connects to pcscd
	state := t.TempDir()
	require.NoError(t, os.Chmod(state, 0o700), "the daemon refuses a state directory others can enter")
	logs := &lockedBuffer{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	conf := filepath.Join(t.TempDir(), "nfcbridge.conf")
	require.NoError(t, os.WriteFile(conf, []byte("ui = true\nlisten = "+addr+"\nstate-dir = "+state+"\nno-upload = true\n"), 0o644))
	e, _ := serveEnv(t, logs, map[string]string{"NFCBRIDGE_CONFIG": conf})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, e, nil) }()
	stopped := false
	defer func() {
		cancel()
		if !stopped {
			<-done
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case err := <-done:
			stopped = true
			require.FailNow(t, "serve ended", "%v; log: %s", err, logs)
		case <-time.After(20 * time.Millisecond):
		}
		_, err := os.Stat(filepath.Join(state, "token"))
		c, derr := net.Dial("tcp", addr)
		if derr == nil {
			c.Close()
		}
		if err == nil && derr == nil {
			break
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "the daemon does not serve", "log: %s", logs)
		}
	}

	var out bytes.Buffer
	ue := &env{stdout: &out, stderr: &out, getenv: e.getenv}
	require.NoError(t, runUIURL(ctx, ue, nil), out.String())
	url := strings.TrimSpace(out.String())
	base, code, ok := strings.Cut(url, "/#pair=")
	require.True(t, ok, url)
	assert.Equal(t, "http://"+addr, base)
	resp, err := http.Get(base + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the page needs no token")

	pair := func() (int, string) {
		req, err := http.NewRequest("POST", base+"/v1/pair", strings.NewReader(`{"code":"`+code+`"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", base) // the page's own origin
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Token
	}
	status, token := pair()
	require.Equal(t, http.StatusOK, status)
	want, err := os.ReadFile(filepath.Join(state, "token"))
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(want)), token)
	status, _ = pair()
	assert.Equal(t, http.StatusUnauthorized, status, "the code is used up")
	assert.NotContains(t, logs.String(), code)
	assert.NotContains(t, logs.String(), token)

	// A daemon without the page (404) says how to turn it on.
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	_, err = requestPairing(ctx, srv.URL, "x")
	assert.ErrorContains(t, err, "ui = true")
}

// TestServeTrustReload: the trust anchors are loaded at start and again on
// SIGHUP (systemctl reload); a reload that fails keeps the previous ones.
func TestServeTrustReload(t *testing.T) {
	pcsctest.Require(t) // serve connects to pcscd
	state, trust := t.TempDir(), t.TempDir()
	require.NoError(t, os.Chmod(state, 0o700))
	logs := &lockedBuffer{}
	e, sb := serveEnv(t, logs, map[string]string{"STATE_DIRECTORY": state})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, e, []string{"--listen", "127.0.0.1:0", "--api-url", sb.URL(), "--trust", trust})
	}()
	defer func() { cancel(); <-done }()
	waitLog := func(want string) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), want) }, 10*time.Second, 20*time.Millisecond, "log: %s", logs)
	}
	waitLog(`"msg":"trust anchors loaded","cscas":0`)
	waitLog(`"msg":"serving"`)

	csca, err := os.ReadFile("../../testdata/realdata/NZ/CSCA.der")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(trust, "nz.cer"), csca, 0o644))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	waitLog(`"msg":"trust anchors loaded","cscas":1`)
	assert.Contains(t, logs.String(), `"path":"`+filepath.Join(trust, "nz.cer")+`"`)
}
