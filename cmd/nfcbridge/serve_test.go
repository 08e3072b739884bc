package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

// lockedBuffer collects the daemon's log from its goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveEnv is an environment with sandbox credentials.
func serveEnv(t *testing.T, stderr io.Writer, vars map[string]string) (*env, *uploadtest.Server) {
	t.Helper()
	key, secret := randomHex(16), randomHex(32)
	sb := uploadtest.New(uploadtest.Config{Key: key, Secret: []byte(secret), AutoCreateSessions: true})
	require.NoError(t, sb.Start("127.0.0.1:0"))
	t.Cleanup(func() { sb.Close() })
	all := map[string]string{"NFCBRIDGE_API_KEY": key, "NFCBRIDGE_API_SECRET": secret}
	for k, v := range vars {
		all[k] = v
	}
	return &env{stdout: io.Discard, stderr: stderr, getenv: func(k string) string { return all[k] }}, sb
}

// notifySocket listens where systemd's NOTIFY_SOCKET would be and returns
// the messages received.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return msgs
}

func nextMessage(t *testing.T, msgs <-chan string, prefix string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m := <-msgs:
			if strings.HasPrefix(m, prefix) {
				return m
			}
		case <-timeout:
			require.FailNow(t, "no message from the daemon", "want one starting with %q", prefix)
		}
	}
}

func getJSON(t *testing.T, client *http.Client, url, token string, out any) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

// TestServeSystemd runs serve as systemd would (Type=notify, WatchdogSec):
// READY=1 once it serves, WATCHDOG=1 keep-alives, STOPPING=1 on shutdown.
func TestServeSystemd(t *testing.T) {
	pcsctest.Require(t) // serve connects to pcscd
	msgs := notifySocket(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	state := privateDir(t)
	logs := &lockedBuffer{}
	e, sb := serveEnv(t, logs, map[string]string{"STATE_DIRECTORY": state})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, e, []string{"--listen", "127.0.0.1:0", "--api-url", sb.URL()}) }()

	ready := nextMessage(t, msgs, "READY=1")
	_, addr, ok := strings.Cut(ready, "STATUS=serving the API on ")
	require.True(t, ok, "status in %q", ready)
	nextMessage(t, msgs, "WATCHDOG=1")

	token, err := os.ReadFile(filepath.Join(state, "token"))
	require.NoError(t, err, "token created in the state directory")
	fi, err := os.Stat(filepath.Join(state, "token"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	var h kiosk.Health
	assert.Equal(t, http.StatusOK, getJSON(t, http.DefaultClient, "http://"+addr+"/v1/health", "", &h))
	assert.Equal(t, "ok", h.Status)
	assert.Equal(t, http.StatusUnauthorized, getJSON(t, http.DefaultClient, "http://"+addr+"/v1/readers", "", nil))
	assert.Equal(t, http.StatusOK, getJSON(t, http.DefaultClient, "http://"+addr+"/v1/readers", strings.TrimSpace(string(token)), nil))
	metrics := httpGet(t, "http://"+addr+"/metrics", strings.TrimSpace(string(token)))
	for _, m := range []string{"nfcbridge_reads_active 0", "nfcbridge_outbox_depth 0", "process_resident_memory_bytes", "go_goroutines",
		"nfcbridge_pcsc_up ", `nfcbridge_build_info{goversion="go1.`} {
		assert.Contains(t, metrics, m)
	}

	cancel()
	nextMessage(t, msgs, "STOPPING=1")
	require.NoError(t, <-done)
	assert.Contains(t, logs.String(), `"msg":"stopped"`)
	assert.Contains(t, logs.String(), `"peakRssBytes"`)
	assert.NotContains(t, logs.String(), strings.TrimSpace(string(token)))
}

func httpGet(t *testing.T, url, token string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	return string(b)
}

// TestServeUnixSocket serves on a Unix socket, where any Host is fine.
func TestServeUnixSocket(t *testing.T) {
	pcsctest.Require(t) // serve connects to pcscd
	dir := privateDir(t)
	sock := filepath.Join(dir, "api.sock")
	e, _ := serveEnv(t, io.Discard, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, e, []string{"--listen", "unix:" + sock, "--state-dir", dir, "--no-upload", "--token-file", filepath.Join(dir, "tok")})
	}()
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	require.Eventually(t, func() bool {
		_, err := os.Stat(sock)
		return err == nil
	}, 20*time.Second, 20*time.Millisecond)
	fi, err := os.Stat(sock)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o660), fi.Mode().Perm())
	token, err := os.ReadFile(filepath.Join(dir, "tok"))
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, getJSON(t, client, "http://kiosk.invalid/v1/readers", strings.TrimSpace(string(token)), nil))
	var e2 struct{ Error kiosk.Error }
	req := `{"sessionId":"0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00","mrz":{"documentNumber":"L898902C3","dateOfBirth":"740812","dateOfExpiry":"120415"}}`
	r, err := http.NewRequest("POST", "http://localhost/v1/reads", strings.NewReader(req))
	require.NoError(t, err)
	r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	r.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(r)
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&e2))
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, kiosk.CodeUploadUnavailable, e2.Error.Code, "--no-upload refuses uploads")
	cancel()
	require.NoError(t, <-done)
}

func TestServeBadConfig(t *testing.T) {
	dir := privateDir(t)
	for _, tc := range []struct {
		name  string
		args  []string
		vars  map[string]string
		usage bool
		msg   string
	}{
		{name: "all interfaces", args: []string{"--listen", "0.0.0.0:0"}, usage: true, msg: "loopback"},
		{name: "LAN address", args: []string{"--listen", "192.0.2.1:8765"}, usage: true, msg: "loopback"},
		{name: "no port", args: []string{"--listen", "127.0.0.1"}, usage: true},
		{name: "bad origin", args: []string{"--listen", "127.0.0.1:0", "--allow-origin", "https://kiosk.example/app"}, usage: true, msg: "origin"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, usage: true},
		{name: "negative timeout", args: []string{"--card-timeout", "-1s"}, usage: true},
		{name: "http API URL", args: []string{"--api-url", "http://vendor.example"}, usage: true},
		{name: "no credentials", args: []string{"--listen", "127.0.0.1:0"}, vars: map[string]string{"NFCBRIDGE_API_KEY": "", "NFCBRIDGE_API_SECRET": ""}, msg: "--no-upload"},
		{name: "world-readable token", args: []string{"--token-file", writeFile(t, dir, "tok", strings.Repeat("a", 40), 0o644)}, msg: "token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"STATE_DIRECTORY": filepath.Join(dir, tc.name)}
			for k, v := range tc.vars {
				vars[k] = v
			}
			e, _ := serveEnv(t, io.Discard, vars)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := runServe(ctx, e, tc.args)
			require.Error(t, err)
			assert.Equal(t, tc.usage, errors.As(err, new(usageError)), "usage error: %v", err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func writeFile(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), mode))
	require.NoError(t, os.Chmod(p, mode))
	return p
}

// childEnv marks the process TestServeActivatedChild runs the daemon in.
const childEnv = "NFCBRIDGE_TEST_SERVE_CHILD"

// TestServeSocketActivation passes a listening socket to the daemon the
// way systemd does (fd 3, LISTEN_FDS=1, LISTEN_PID), in a child process.
func TestServeSocketActivation(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f, err := l.(*net.TCPListener).File()
	require.NoError(t, err)
	l.Close() // the child holds the socket now
	state := privateDir(t)
	key, secret := randomHex(16), randomHex(32)
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeActivatedChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", "LISTEN_FDS=1", "STATE_DIRECTORY="+state,
		"NFCBRIDGE_API_KEY="+key, "NFCBRIDGE_API_SECRET="+secret)
	cmd.ExtraFiles = []*os.File{f}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	f.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	url := "http://" + l.Addr().String() + "/v1/health"
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond, "daemon output:\n%s", &out)
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		require.NoError(t, err, "child output:\n%s", out.String())
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the daemon did not stop on SIGTERM", "child output:\n%s", out.String())
	}
	assert.Contains(t, out.String(), "using sockets from systemd")
}

// TestServeActivatedChild is the daemon of TestServeSocketActivation.
func TestServeActivatedChild(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("runs as the child of TestServeSocketActivation")
	}
	os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid())) // systemd sets it after fork
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	if err := runServe(ctx, e, []string{"--listen", "127.0.0.1:1"}); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		require.NoError(t, err)
	}
}

// TestStateDirMode checks that the state directory is created 0700 and that
// an existing one open to other users is refused with the fix.
func TestStateDirMode(t *testing.T) {
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	dir := filepath.Join(t.TempDir(), "state")
	got, err := resolveStateDir(e, dir)
	require.NoError(t, err)
	fi, err := os.Stat(got)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	require.NoError(t, os.Chmod(dir, 0o755))
	_, err = resolveStateDir(e, dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "chmod 700 "+dir)
}

// privateDir is a temporary directory of mode 0700, as the daemon wants its
// state directory (t.TempDir follows the umask).
func privateDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o700))
	return dir
}
