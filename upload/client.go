package upload

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// DefaultBaseURL is the vendor's production API.
const DefaultBaseURL = "https://stationapi.veriff.com"

// DefaultMaxNFCBytes is the vendor's limit on the combined base64 length of
// com, sod, dg1 and dg2 (code 1412 above it).
const DefaultMaxNFCBytes = 500_000

// Client uploads media to sessions. Its zero value, given Credentials,
// uploads to the production API with the defaults below. A Client is safe
// for concurrent use (if Rand is) and must not be copied after first use.
type Client struct {
	// BaseURL is the API root; "" means DefaultBaseURL. It must be https://,
	// or http:// to a loopback IP address (tests, a local sandbox).
	BaseURL string
	// Credentials sign the requests and verify the responses.
	Credentials Credentials
	// HTTP sends the requests. nil means a client with connect and TLS
	// handshake timeouts of 10 s that takes its proxy from the environment
	// (HTTPS_PROXY, NO_PROXY). Redirects are never followed, whichever
	// client is used: a 3xx is reported as an [*APIError].
	HTTP *http.Client
	// Compression of the request body; "" means Gzip.
	Compression Compression
	// MaxNFCBytes bounds the combined base64 length of the four NFC files;
	// 0 means DefaultMaxNFCBytes.
	MaxNFCBytes int
	// MaxImageBytes bounds the length of an image's data URI; 0 means
	// DefaultMaxImageBytes.
	MaxImageBytes int
	// MaxImageSide bounds an image's longer side in pixels; 0 means
	// DefaultMaxImageSide.
	MaxImageSide int
	// Retry bounds retries; the zero value has sensible defaults.
	Retry RetryPolicy
	// RequireResponseSignature rejects a 2xx response without
	// X-HMAC-SIGNATURE with ErrResponseSignature. When false (the default),
	// a signature is verified when present, as the contract says.
	RequireResponseSignature bool
	// Now tells the time for Retry-After dates; nil means time.Now.
	Now func() time.Time
	// Rand is the source of retry jitter; nil means crypto/rand.
	Rand io.Reader

	once        sync.Once
	defaultHTTP *http.Client
}

// UploadNFC uploads the four NFC files to the session. Everything that can
// be checked locally is checked first, without network I/O: the API URL,
// the session ID, the credentials, the files and their combined size
// ([*SizeError]). A vendor error is an [*APIError].
func (c *Client) UploadNFC(ctx context.Context, sessionID string, nfc NFC) (*Media, error) {
	u, err := c.prepare(sessionID)
	if err == nil {
		err = nfc.check(orDefault(c.MaxNFCBytes, DefaultMaxNFCBytes))
	}
	var body []byte
	if err == nil {
		body, err = nfc.body()
	}
	if err != nil {
		return nil, fmt.Errorf("upload: NFC data: %w", err)
	}
	m, err := c.send(ctx, u, body)
	if err != nil {
		return nil, fmt.Errorf("upload: NFC data to session %s: %w", sessionID, err)
	}
	return m, nil
}

// UploadImage uploads an image to the session. The format, the size of the
// data URI and the longer side are checked first, without network I/O.
func (c *Client) UploadImage(ctx context.Context, sessionID string, img Image) (*Media, error) {
	u, err := c.prepare(sessionID)
	var body []byte
	if err == nil {
		body, err = img.body(orDefault(c.MaxImageBytes, DefaultMaxImageBytes), orDefault(c.MaxImageSide, DefaultMaxImageSide))
	}
	if err != nil {
		return nil, fmt.Errorf("upload: image: %w", err)
	}
	m, err := c.send(ctx, u, body)
	if err != nil {
		return nil, fmt.Errorf("upload: image to session %s: %w", sessionID, err)
	}
	return m, nil
}

// Validate checks the configuration without network I/O: the API URL, the
// credentials and the compression. Call it early, before reading a chip.
func (c *Client) Validate() error {
	if err := c.validate(); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}

func (c *Client) validate() error {
	if _, err := c.base(); err != nil {
		return err
	}
	if err := c.Credentials.check(); err != nil {
		return err
	}
	if _, _, err := compress(c.Compression, nil); err != nil {
		return err
	}
	if c.MaxNFCBytes < 0 || c.MaxImageBytes < 0 || c.MaxImageSide < 0 {
		return fmt.Errorf("negative size limit: %w", ErrConfig)
	}
	return nil
}

// prepare validates the client and the session and returns the endpoint.
func (c *Client) prepare(sessionID string) (string, error) {
	if err := checkSessionID(sessionID); err != nil {
		return "", err
	}
	if err := c.validate(); err != nil {
		return "", err
	}
	base, _ := c.base()
	return base.JoinPath("v1", "sessions", sessionID, "media").String(), nil
}

// CheckSessionID reports whether id is a UUID in the canonical form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, as the vendor issues them.
func CheckSessionID(id string) error {
	if err := checkSessionID(id); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}

func checkSessionID(id string) error {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return fmt.Errorf("session ID %.40q: %w", id, ErrInvalidSessionID)
	}
	return nil
}

// base parses BaseURL and enforces https except for loopback IPs. Errors
// never echo the URL, which might hold a password.
func (c *Client) base() (*url.URL, error) {
	raw := c.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Opaque != "" || u.Host == "":
		return nil, fmt.Errorf("API URL is not an absolute URL like %s: %w", DefaultBaseURL, ErrConfig)
	case u.User != nil:
		return nil, fmt.Errorf("API URL must not contain user information: %w", ErrInsecureURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("API URL must not have a query or a fragment: %w", ErrConfig)
	case u.Scheme == "https":
		return u, nil
	case u.Scheme == "http":
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() {
			return u, nil
		}
	}
	return nil, fmt.Errorf("API URL %s://%s: %w", u.Scheme, u.Host, ErrInsecureURL)
}

// send posts body with retries.
func (c *Client) send(ctx context.Context, u string, body []byte) (*Media, error) {
	p, err := newPayload(body, c.Credentials.Secret, c.Compression)
	if err != nil {
		return nil, err
	}
	pol := c.Retry.withDefaults()
	ctx, cancel := context.WithTimeoutCause(ctx, pol.MaxElapsed, ErrTimeLimit)
	defer cancel()
	hc := c.httpClient()
	var prev error // the previous attempt's error, kept if the context ends
	for n := 1; ; n++ {
		m, o := c.attempt(ctx, hc, u, p, pol.AttemptTimeout)
		switch {
		case o.err == nil:
			return m, nil
		case !o.retry && prev != nil && ctx.Err() != nil:
			return nil, fmt.Errorf("stopped during attempt %d: %w; last error: %w", n, o.err, prev)
		case !o.retry && n == 1:
			return nil, o.err
		case !o.retry:
			return nil, fmt.Errorf("attempt %d: %w", n, o.err)
		case n >= pol.MaxAttempts:
			return nil, fmt.Errorf("gave up after %s: %w", attempts(n), o.err)
		}
		wait := max(pol.delay(n, c.rand()), o.after)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, fmt.Errorf("gave up after %s: %w (no time left to wait %v): %w", attempts(n), ErrTimeLimit, wait.Round(time.Millisecond), o.err)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("stopped after %s: %w; last error: %w", attempts(n), err, o.err)
		}
		prev = o.err
	}
}

// attempt sends the request once and reads the answer.
func (c *Client) attempt(ctx context.Context, hc *http.Client, u string, p payload, timeout time.Duration) (*Media, outcome) {
	actx, cancel := context.WithTimeoutCause(ctx, timeout, errAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u, bytes.NewReader(p.wire))
	if err != nil {
		return nil, outcome{err: err}
	}
	req.Header.Set("X-AUTH-CLIENT", c.Credentials.Key)
	req.Header.Set("X-HMAC-SIGNATURE", p.signature)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Encoding", "identity")
	if p.encoding != "" {
		req.Header.Set("Content-Encoding", p.encoding)
	}
	// Once the whole request is written the vendor may store it whatever
	// happens next: a missing answer is then not retried.
	var wrote atomic.Bool
	req = req.WithContext(httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(w httptrace.WroteRequestInfo) { wrote.Store(w.Err == nil) },
	}))
	resp, err := hc.Do(req)
	if err != nil {
		o := transportOutcome(ctx, actx, err)
		if wrote.Load() {
			o = outcome{err: fmt.Errorf("%w: %w", ErrUnanswered, o.err)}
		}
		return nil, o
	}
	defer resp.Body.Close()
	body, rerr := readBody(resp)
	if resp.StatusCode/100 == 2 {
		return c.success(resp, body, rerr)
	}
	e := parseAPIError(resp.StatusCode, body)
	if rerr == nil {
		// An error answer that fails verification is still reported (a 401
		// after a wrong secret cannot verify), but nothing is decided on it.
		if err := c.verifyResponse(resp.Header, body, false); err != nil {
			e.Retryable = false
			return nil, outcome{err: fmt.Errorf("%w; %w", e, err)}
		}
	}
	return nil, outcome{err: e, retry: e.Retryable, after: retryAfter(resp, c.now())}
}

// success reads a 2xx. Nothing here is retried: the upload may be stored.
func (c *Client) success(resp *http.Response, body []byte, rerr error) (*Media, outcome) {
	const notResent = "the vendor answered HTTP %d, so the upload is probably stored and was not resent: %w"
	if rerr != nil {
		return nil, outcome{err: fmt.Errorf(notResent+" (%v)", resp.StatusCode, ErrMalformedResponse, rerr)}
	}
	if err := c.verifyResponse(resp.Header, body, true); err != nil {
		return nil, outcome{err: fmt.Errorf(notResent, resp.StatusCode, err)}
	}
	m, err := parseMedia(body)
	if err != nil {
		return nil, outcome{err: fmt.Errorf(notResent, resp.StatusCode, err)}
	}
	return m, outcome{}
}

// httpClient returns the client to use, never following redirects: a
// redirected POST could resend the body, or carry the API key elsewhere.
func (c *Client) httpClient() *http.Client {
	hc := c.HTTP
	if hc == nil {
		c.once.Do(func() { c.defaultHTTP = newHTTPClient() })
		hc = c.defaultHTTP
	}
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// newHTTPClient has timeouts on connect and TLS; the attempt's context
// bounds the whole request (RetryPolicy.AttemptTimeout).
func newHTTPClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          4,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true,
	}}
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) rand() io.Reader {
	if c.Rand != nil {
		return c.Rand
	}
	return rand.Reader
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return fmt.Sprintf("%d attempts", n)
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}
