package kiosk_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/openapitest"
	"github.com/nfcbridge/nfcbridge/kiosk"
	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// specimenMRZ is the ICAO specimen's MRZ: not a real person.
const specimenMRZ = vchip.SpecimenMRZ

var specimenOnce = sync.OnceValues(func() (*vchip.Dataset, error) {
	return vchip.LoadDir("../testdata/passports/specimen-20k")
})

// specimen returns the 20 KB specimen dataset of testdata.
func specimen(t testing.TB) *vchip.Dataset {
	t.Helper()
	ds, err := specimenOnce()
	require.NoError(t, err)
	return ds
}

// newChip returns a virtual passport serving the specimen.
func newChip(t testing.TB, cfg *vchip.Config) *vchip.Passport {
	t.Helper()
	if cfg == nil {
		cfg = &vchip.Config{}
	}
	p, err := vchip.New(specimen(t), cfg)
	require.NoError(t, err)
	return p
}

// sandbox is the vendor's endpoint and the credentials it accepts.
type sandbox struct {
	*uploadtest.Server
	creds upload.Credentials
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func newSandbox(t testing.TB) *sandbox {
	t.Helper()
	creds := upload.Credentials{Key: randomHex(t, 16), Secret: []byte(randomHex(t, 32))}
	srv := uploadtest.New(uploadtest.Config{Key: creds.Key, Secret: creds.Secret, AutoCreateSessions: true})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { srv.Close() })
	return &sandbox{Server: srv, creds: creds}
}

// client returns an upload client of the sandbox with short retries.
func (s *sandbox) client() *upload.Client {
	return &upload.Client{BaseURL: s.URL(), Credentials: s.creds,
		Retry: upload.RetryPolicy{MaxAttempts: 2, BaseDelay: 10 * time.Millisecond, AttemptTimeout: 2 * time.Second, MaxElapsed: 3 * time.Second}}
}

// logBuffer collects a service's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newService starts a service and shuts it down when the test ends.
func newService(t testing.TB, cfg kiosk.Config) *kiosk.Service {
	t.Helper()
	svc, err := kiosk.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() {
		sctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
		defer stop()
		svc.Shutdown(sctx)
		cancel()
		<-done
	})
	return svc
}

// api is an HTTP client of a running API server.
type api struct {
	t     testing.TB
	url   string
	token string
	spec  *openapitest.Spec // every answer is checked against openapi.yaml
}

// apiSpec is openapi.yaml, loaded and validated once.
var apiSpec = sync.OnceValues(func() (*openapitest.Spec, error) { return openapitest.Load("openapi.yaml") })

// newAPI serves svc over HTTP on loopback.
func newAPI(t testing.TB, svc kiosk.API, cfg kiosk.HandlerConfig) *api {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = randomHex(t, 32)
	}
	h, err := kiosk.NewHandler(svc, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	spec, err := apiSpec()
	require.NoError(t, err)
	return &api{t: t, url: srv.URL, token: cfg.Token, spec: spec}
}

// do sends a request with the token and decodes a JSON answer into out
// (when not nil); it returns the status code.
func (a *api) do(method, path string, body any, out any) int {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(a.t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, a.url+path, r)
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	assert.NoError(a.t, a.spec.CheckResponse(req, resp.StatusCode, resp.Header, b), "the answer as openapi.yaml documents it")
	if out != nil {
		require.NoError(a.t, json.Unmarshal(b, out), "body %s", b)
	}
	return resp.StatusCode
}

// start posts a read and returns its status.
func (a *api) start(req map[string]any) kiosk.Status {
	a.t.Helper()
	var st kiosk.Status
	code := a.do("POST", "/v1/reads", req, &st)
	require.Equal(a.t, http.StatusAccepted, code)
	return st
}

// sseEvent is one server-sent event.
type sseEvent struct {
	id, name string
	status   kiosk.Status
}

// follow reads the read's event stream until it ends (or the timeout),
// as a kiosk UI does.
func (a *api) follow(id string, timeout time.Duration) []sseEvent {
	a.t.Helper()
	return a.followFrom(id, "", timeout)
}

// followFrom is follow with a Last-Event-ID ("" for none).
func (a *api) followFrom(id, lastEventID string, timeout time.Duration) []sseEvent {
	a.t.Helper()
	return a.stream(id, lastEventID, timeout, false)
}

func (a *api) stream(id, lastEventID string, timeout time.Duration, partial bool) []sseEvent {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", a.url+"/v1/reads/"+id+"/events", nil)
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	require.Equal(a.t, http.StatusOK, resp.StatusCode)
	require.Equal(a.t, "text/event-stream", resp.Header.Get("Content-Type"))
	var raw bytes.Buffer
	evs, err := parseSSE(io.TeeReader(resp.Body, &raw))
	if partial && ctx.Err() != nil {
		return evs
	}
	require.NoError(a.t, err, "event stream of read %s", id)
	assert.NoError(a.t, a.spec.CheckResponse(req, resp.StatusCode, resp.Header, raw.Bytes()), "every event as openapi.yaml documents it")
	return evs
}

// peek returns the events a stream sends within d, without waiting for
// its end.
func (a *api) peek(id string, d time.Duration) []sseEvent {
	a.t.Helper()
	return a.stream(id, "", d, true)
}

func parseSSE(r io.Reader) ([]sseEvent, error) {
	var evs []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.name != "" {
				evs = append(evs, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			cur.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.status); err != nil {
				return evs, err
			}
		}
	}
	return evs, sc.Err()
}

// states lists the distinct consecutive states of evs.
func states(evs []sseEvent) []kiosk.State {
	var out []kiosk.State
	for _, ev := range evs {
		if n := len(out); n == 0 || out[n-1] != ev.status.State {
			out = append(out, ev.status.State)
		}
	}
	return out
}

// waitState polls the read until it reaches state, or fails the test.
func (a *api) waitState(id string, state kiosk.State, timeout time.Duration) kiosk.Status {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var st kiosk.Status
		require.Equal(a.t, http.StatusOK, a.do("GET", "/v1/reads/"+id, nil, &st))
		if st.State == state {
			return st
		}
		if time.Now().After(deadline) {
			require.Equal(a.t, state, st.State, "read %s (error %+v)", id, st.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readReq is a read request for the specimen.
func readReq(session string, extra map[string]any) map[string]any {
	m := map[string]any{"sessionId": session, "mrz": specimenMRZ}
	for k, v := range extra {
		m[k] = v
	}
	return m
}
