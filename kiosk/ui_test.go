package kiosk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newUIHandler(t testing.TB, api API, log *slog.Logger) http.Handler {
	t.Helper()
	h, err := NewHandler(api, HandlerConfig{Token: testToken, UI: true, Logger: log, ReaderPoll: 10 * time.Millisecond})
	require.NoError(t, err)
	return h
}

func TestPairings(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	p := newPairings(time.Minute, func() time.Time { return now })
	code, exp := p.issue()
	assert.Regexp(t, `^[0-9a-f]{32}$`, code)
	assert.Equal(t, now.Add(time.Minute), exp)
	assert.False(t, p.redeem(strings.ToUpper(code)), "codes are exact")
	assert.True(t, p.redeem(code))
	assert.False(t, p.redeem(code), "single use")

	late, _ := p.issue()
	now = now.Add(time.Minute)
	assert.False(t, p.redeem(late), "expired")

	var codes []string
	for range maxPairings + 4 {
		c, _ := p.issue()
		codes = append(codes, c)
		now = now.Add(time.Millisecond)
	}
	assert.LessOrEqual(t, len(p.codes), maxPairings)
	assert.False(t, p.redeem(codes[0]), "the oldest code made room")
	assert.True(t, p.redeem(codes[len(codes)-1]))
}

func TestPairingOverHTTP(t *testing.T) {
	h := newUIHandler(t, newFakeAPI(), nil)
	pairReq := func(code string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/pair", strings.NewReader(`{"code":"`+code+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://127.0.0.1:8765") // the page's own origin
		return serve(h, req)
	}

	// Issuing a code needs the token.
	rec := serve(h, httptest.NewRequest("POST", "/v1/pairings", nil))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	rec = serve(h, newRequest("POST", "/v1/pairings", ""))
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var p Pairing
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	assert.True(t, p.ExpiresAt.After(time.Now()))

	rec = pairReq(p.Code)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"token":"`+testToken+`"}`, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))

	rec = pairReq(p.Code)
	assert.Equal(t, http.StatusUnauthorized, rec.Code, "used up")
	assert.Equal(t, CodeUnauthorized, errorOf(t, rec.Body.Bytes()).Code)
	assert.NotContains(t, rec.Body.String(), testToken)

	// Without --ui there is neither page nor pairing.
	plain, err := NewHandler(newFakeAPI(), HandlerConfig{Token: testToken})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, serve(plain, newRequest("POST", "/v1/pairings", "")).Code)
	assert.Equal(t, http.StatusNotFound, serve(plain, newRequest("GET", "/", "")).Code)
}

func TestUIFiles(t *testing.T) {
	h := newUIHandler(t, newFakeAPI(), nil)
	for path, typ := range map[string]string{
		"/": "text/html", "/ui/app.js": "text/javascript", "/ui/client.js": "text/javascript", "/ui/style.css": "text/css",
	} {
		rec := serve(h, httptest.NewRequest("GET", path, nil)) // no token: the files hold no secret
		require.Equal(t, http.StatusOK, rec.Code, path)
		assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), typ), path)
		csp := rec.Header().Get("Content-Security-Policy")
		assert.Contains(t, csp, "default-src 'none'", path)
		assert.Contains(t, csp, "script-src 'self'", path)
		assert.NotContains(t, csp, "unsafe", path)
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		assert.NotContains(t, rec.Body.String(), testToken)
	}
	for _, path := range []string{"/ui/missing.js", "/ui/", "/ui/..%2fui.go", "/index.html"} {
		rec := serve(h, httptest.NewRequest("GET", path, nil))
		assert.Contains(t, []int{http.StatusNotFound, http.StatusUnauthorized}, rec.Code, path)
		assert.NotContains(t, rec.Body.String(), "package kiosk", path)
	}
}

// TestUINoExternalRequests: the page loads nothing from elsewhere and has
// no inline script or style, which the CSP would block anyway.
func TestUINoExternalRequests(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "client.js", "style.css"} {
		b, err := os.ReadFile("ui/" + name)
		require.NoError(t, err)
		assert.NotRegexp(t, `(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`, string(b), name)
		if name == "index.html" {
			assert.NotRegexp(t, `<script>|<script [^>]*>[^<]|\sstyle=|<style|\son[a-z]+=`, string(b))
		}
	}
}

// TestUIMessagesCoverCodes: the JS client has an operator message for
// exactly the API's error codes.
func TestUIMessagesCoverCodes(t *testing.T) {
	b, err := os.ReadFile("ui/client.js")
	require.NoError(t, err)
	block := regexp.MustCompile(`(?s)export const messages = \{(.*?)\n\};`).FindSubmatch(b)
	require.NotNil(t, block)
	var js []string
	for _, m := range regexp.MustCompile(`(?m)^\s+([a-z_]+):`).FindAllSubmatch(block[1], -1) {
		js = append(js, string(m[1]))
	}
	spec, err := os.ReadFile("openapi.yaml")
	require.NoError(t, err)
	src, err := os.ReadFile("errors.go")
	require.NoError(t, err)
	var codes []string
	for _, m := range regexp.MustCompile(`Code += "([a-z_]+)"`).FindAllSubmatch(src, -1) {
		codes = append(codes, string(m[1]))
		assert.True(t, strings.Contains(string(spec), "- "+string(m[1])), "openapi.yaml lists %s", m[1])
	}
	require.NotEmpty(t, codes)
	slices.Sort(js)
	slices.Sort(codes)
	assert.Equal(t, codes, js)
}

func TestSameOriginAndRefusedOriginLogged(t *testing.T) {
	var log bytes.Buffer
	h := newUIHandler(t, newFakeAPI(), slog.New(slog.NewJSONHandler(&log, nil)))
	req := newRequest("GET", "/v1/readers", "")
	req.Header.Set("Origin", "http://127.0.0.1:8765")
	rec := serve(h, req)
	assert.Equal(t, http.StatusOK, rec.Code, "the daemon's own page")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "same origin needs no CORS")

	req = newRequest("GET", "/v1/readers", "")
	req.Header.Set("Origin", "https://evil.example")
	rec = serve(h, req)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Contains(t, log.String(), `"origin":"https://evil.example"`)
	assert.Contains(t, log.String(), "--allow-origin")
	assert.NotContains(t, log.String(), testToken)
}

func TestReaderEvents(t *testing.T) {
	api := newFakeAPI()
	srv := httptest.NewServer(newUIHandler(t, api, nil))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/readers/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	events := make(chan ReadersEvent)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev ReadersEvent
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- ev
				}
			}
		}
		close(events)
	}()
	first := <-events
	assert.Equal(t, api.readers, first.Readers)

	api.mu.Lock()
	api.readers = []ReaderInfo{{Name: "Reader 0"}, {Name: "Reader 1", CardPresent: true}}
	api.mu.Unlock()
	select {
	case ev := <-events:
		assert.Equal(t, []ReaderInfo{{Name: "Reader 0"}, {Name: "Reader 1", CardPresent: true}}, ev.Readers, "one event per change")
	case <-ctx.Done():
		require.FailNow(t, "no event after the card moved")
	}

	api.mu.Lock()
	api.err = ErrPCSCUnavailable
	api.mu.Unlock()
	ev := <-events
	assert.Empty(t, ev.Readers)
	require.NotNil(t, ev.Error)
	assert.Equal(t, CodePCSCUnavailable, ev.Error.Code)
}
