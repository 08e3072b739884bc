package upload_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

// fixture is a started strict server, an open session on it and a client
// for it with fast retries.
type fixture struct {
	srv     *uploadtest.Server
	session string
	client  *upload.Client
}

func setup(t *testing.T, cfg uploadtest.Config) *fixture {
	t.Helper()
	if cfg.Key == "" {
		cfg.Key = testKey
	}
	if cfg.Secret == nil {
		cfg.Secret = []byte(testSecret)
	}
	s := uploadtest.New(cfg)
	require.NoError(t, s.Start(""))
	t.Cleanup(func() { _ = s.Close() })
	c := &upload.Client{BaseURL: s.URL(), Credentials: testCredentials(), Retry: fastRetry()}
	return &fixture{srv: s, session: s.NewSession(), client: c}
}

func fastRetry() upload.RetryPolicy {
	return upload.RetryPolicy{MaxAttempts: 5, MaxElapsed: 20 * time.Second, AttemptTimeout: 5 * time.Second,
		BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}
}

// wantNFCBody builds the documented body by hand, independently of the
// client's encoder.
func wantNFCBody(n upload.NFC) string {
	b := base64.StdEncoding.EncodeToString
	return fmt.Sprintf(`{"nfcDocuments":{"com":%q,"sod":%q,"dg1":%q,"dg2":%q}}`, b(n.COM), b(n.SOD), b(n.DG1), b(n.DG2))
}

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestSignatureOverUncompressedBody(t *testing.T) {
	nfc := testNFC(t)
	want := wantNFCBody(nfc)
	tests := []struct {
		name         string
		compression  upload.Compression
		wantEncoding string
		compressed   bool
	}{
		{name: "gzip", compression: upload.Gzip, wantEncoding: "gzip", compressed: true},
		{name: "zero value is gzip", compression: "", wantEncoding: "gzip", compressed: true},
		{name: "deflate is zlib (strict server)", compression: upload.Deflate, wantEncoding: "deflate", compressed: true},
		{name: "none", compression: upload.NoCompression, wantEncoding: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, uploadtest.Config{})
			f.client.Compression = tc.compression
			m, err := f.client.UploadNFC(context.Background(), f.session, nfc)
			require.NoError(t, err)

			reqs := f.srv.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, http.StatusOK, r.Status)
			assert.Equal(t, tc.wantEncoding, r.ContentEncoding)
			assert.Equal(t, want, string(r.Body), "decoded body is the documented JSON")
			assert.Equal(t, hmacHex(testSecret, want), r.Signature, "signature is over the uncompressed body")
			if tc.compressed {
				assert.Less(t, r.WireBytes, len(want))
			} else {
				assert.Equal(t, len(want), r.WireBytes)
			}

			ups := f.srv.Uploads()
			require.Len(t, ups, 1)
			assert.Equal(t, nfc.DG2, ups[0].NFC["dg2"])
			assert.Equal(t, nfc.SOD, ups[0].NFC["sod"])
			assert.Equal(t, ups[0].Media.ID, m.ID)
			assert.Equal(t, f.session, m.SessionID)
			assert.Equal(t, "application/octet-stream", m.MIMEType, "as the vendor answers NFC uploads")
			assert.Equal(t, "document-nfc", m.Context)
			assert.Nil(t, m.Timestamp)
			assert.EqualValues(t, len(nfc.COM)+len(nfc.SOD)+len(nfc.DG1)+len(nfc.DG2), m.Size)
			var raw map[string]any
			require.NoError(t, json.Unmarshal(m.Raw, &raw))
			assert.Equal(t, m.ID, raw["id"])
		})
	}
}

func TestOversizeSendsNothing(t *testing.T) {
	// Base64 lengths: COM 25 → 36, SOD 2048 → 2732, DG1 93 → 124: 2892.
	// A DG2 of 372,831 bytes encodes to 497,108 (4·124,277): 500,000 in all.
	const atLimit = 372_831
	tests := []struct {
		name      string
		dg2       int
		maxNFC    int
		wantSize  int
		wantOver  int
		wantError bool
	}{
		{name: "exactly the default limit is sent", dg2: atLimit},
		{name: "one base64 quantum over the default limit", dg2: atLimit + 1, wantSize: 500_004, wantOver: 4, wantError: true},
		{name: "way over", dg2: 1_000_000, wantSize: 2892 + 1_333_336, wantOver: 2892 + 1_333_336 - 500_000, wantError: true},
		{name: "configured lower limit", dg2: 20_000, maxNFC: 10_000, wantSize: 2892 + 26_668, wantOver: 2892 + 26_668 - 10_000, wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, uploadtest.Config{})
			f.client.MaxNFCBytes = tc.maxNFC
			nfc := upload.NFC{COM: testCOM(), SOD: testLDS(0x77, 2048, 1), DG1: testDG1(), DG2: testLDS(0x75, tc.dg2, 2)}
			_, err := f.client.UploadNFC(context.Background(), f.session, nfc)
			if !tc.wantError {
				require.NoError(t, err)
				assert.Len(t, f.srv.Uploads(), 1)
				return
			}
			var se *upload.SizeError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.wantSize, se.Size)
			assert.Equal(t, tc.wantOver, se.Size-se.Limit)
			assert.Contains(t, err.Error(), fmt.Sprintf("over the %d-byte limit by %d bytes", se.Limit, tc.wantOver))
			assert.Empty(t, f.srv.Requests(), "no request")
			assert.Zero(t, f.srv.Connections(), "not even a connection")
		})
	}
}

func TestPreflightSendsNothing(t *testing.T) {
	good := testNFC(t)
	tests := []struct {
		name    string
		mutate  func(c *upload.Client, session *string, nfc *upload.NFC)
		wantIs  error
		leakies []string // must not appear in the error
	}{
		{name: "http to a non-loopback host", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.BaseURL = "http://192.0.2.1:8080" }, wantIs: upload.ErrInsecureURL},
		{name: "http to localhost by name", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.BaseURL = "http://localhost:1" }, wantIs: upload.ErrInsecureURL},
		{name: "other scheme", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.BaseURL = "ftp://example.com" }, wantIs: upload.ErrInsecureURL},
		{name: "user information", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.BaseURL = "https://u:hunter2@example.com" }, wantIs: upload.ErrInsecureURL, leakies: []string{"hunter2"}},
		{name: "query", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.BaseURL = "https://example.com/?token=hunter2" }, wantIs: upload.ErrConfig, leakies: []string{"hunter2"}},
		{name: "relative URL", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.BaseURL = "stationapi.veriff.com" }, wantIs: upload.ErrConfig},
		{name: "session not a UUID", mutate: func(_ *upload.Client, s *string, _ *upload.NFC) { *s = "../../admin" }, wantIs: upload.ErrInvalidSessionID},
		{name: "session UUID without hyphens", mutate: func(_ *upload.Client, s *string, _ *upload.NFC) { *s = "0123456789abcdef0123456789abcdef" }, wantIs: upload.ErrInvalidSessionID},
		{name: "session UUID in braces", mutate: func(_ *upload.Client, s *string, _ *upload.NFC) { *s = "{01234567-89ab-cdef-0123-456789abcdef}" }, wantIs: upload.ErrInvalidSessionID},
		{name: "no key", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.Credentials.Key = "" }, wantIs: upload.ErrNoCredentials},
		{name: "key with a newline", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.Credentials.Key = testKey + "\n" }, wantIs: upload.ErrNoCredentials},
		{name: "no secret", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.Credentials.Secret = nil }, wantIs: upload.ErrNoCredentials},
		{name: "unknown compression", mutate: func(c *upload.Client, _ *string, _ *upload.NFC) { c.Compression = "br" }, wantIs: upload.ErrConfig},
		{name: "DG2 missing", mutate: func(_ *upload.Client, _ *string, n *upload.NFC) { n.DG2 = nil }, wantIs: upload.ErrNFCFormat},
		{name: "COM missing", mutate: func(_ *upload.Client, _ *string, n *upload.NFC) { n.COM = []byte{} }, wantIs: upload.ErrNFCFormat},
		{name: "SOD and DG1 swapped", mutate: func(_ *upload.Client, _ *string, n *upload.NFC) { n.SOD, n.DG1 = n.DG1, n.SOD }, wantIs: upload.ErrNFCFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, uploadtest.Config{})
			session, nfc := f.session, good
			tc.mutate(f.client, &session, &nfc)
			_, err := f.client.UploadNFC(context.Background(), session, nfc)
			require.ErrorIs(t, err, tc.wantIs)
			for _, s := range append(tc.leakies, testKey, testSecret) {
				assert.NotContains(t, err.Error(), s)
			}
			assert.Empty(t, f.srv.Requests())
			assert.Zero(t, f.srv.Connections())
		})
	}
}

func TestValidate(t *testing.T) {
	c := &upload.Client{Credentials: testCredentials()}
	require.NoError(t, c.Validate(), "zero value with credentials targets production")
	c.BaseURL = "http://[::1]:8080/prefix"
	require.NoError(t, c.Validate(), "IPv6 loopback")
	c.BaseURL = "http://127.0.0.2:8080"
	require.NoError(t, c.Validate(), "all of 127/8 is loopback")
	c.BaseURL = "http://10.0.0.1"
	require.ErrorIs(t, c.Validate(), upload.ErrInsecureURL)
	require.NoError(t, upload.CheckSessionID("f47ac10b-58cc-4372-a567-0e02b2c3d479"))
	require.ErrorIs(t, upload.CheckSessionID(""), upload.ErrInvalidSessionID)
}

func TestBaseURLPathPrefix(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	mux := http.NewServeMux()
	mux.Handle("/api/", http.StripPrefix("/api", f.srv.Handler()))
	ts := httptest.NewServer(mux)
	defer ts.Close()
	f.client.BaseURL = ts.URL + "/api/"
	_, err := f.client.UploadNFC(context.Background(), f.session, testNFC(t))
	require.NoError(t, err)
}

func TestHTTPS(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	ts := httptest.NewUnstartedServer(f.srv.Handler())
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-certificate case logs a handshake error
	ts.StartTLS()
	defer ts.Close()
	f.client.BaseURL = ts.URL
	f.client.HTTP = ts.Client()
	_, err := f.client.UploadNFC(context.Background(), f.session, testNFC(t))
	require.NoError(t, err)

	t.Run("untrusted certificate is not retried", func(t *testing.T) {
		c := &upload.Client{BaseURL: ts.URL, Credentials: testCredentials(), Retry: fastRetry()}
		_, err := c.UploadNFC(context.Background(), f.session, testNFC(t))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "attempts")
		assert.Len(t, f.srv.Uploads(), 1, "only the first upload")
	})
}

func TestRedirectNotFollowed(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	hits := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, f.srv.URL()+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer ts.Close()
	f.client.BaseURL = ts.URL
	_, err := f.client.UploadNFC(context.Background(), f.session, testNFC(t))
	var ae *upload.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTemporaryRedirect, ae.Status)
	assert.False(t, ae.Retryable)
	assert.Equal(t, 1, hits)
	assert.Empty(t, f.srv.Requests(), "the key never reached the redirect target")
}

func TestProxyFromEnvironment(t *testing.T) {
	// The default client takes its proxy from the environment, which
	// net/http reads once per process: check it in a child process.
	// Loopback targets are never proxied, so aim at a documentation address
	// and let the proxy (a plain HTTP server that refuses CONNECT) answer.
	if os.Getenv("UPLOAD_TEST_PROXY_CHILD") == "1" {
		c := &upload.Client{BaseURL: "https://192.0.2.10", Credentials: testCredentials(),
			Retry: upload.RetryPolicy{MaxAttempts: 1, AttemptTimeout: 5 * time.Second}}
		_, err := c.UploadNFC(context.Background(), "f47ac10b-58cc-4372-a567-0e02b2c3d479", testNFC(t))
		require.Error(t, err)
		require.NotErrorIs(t, err, context.DeadlineExceeded, "the proxy answers at once")
		return
	}
	var proxied []string
	var mu sync.Mutex
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.Method+" "+r.Host)
		mu.Unlock()
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer proxy.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$", "-test.count=1")
	cmd.Env = append(os.Environ(), "UPLOAD_TEST_PROXY_CHILD=1", "HTTPS_PROXY="+proxy.URL, "https_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"CONNECT 192.0.2.10:443"}, proxied)
}
