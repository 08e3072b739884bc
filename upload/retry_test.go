package upload_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

func TestRetried(t *testing.T) {
	nfc := testNFC(t)
	tests := []struct {
		name         string
		faults       []uploadtest.Fault
		policy       func(p *upload.RetryPolicy)
		wantRequests int // -1: at most one (the sandbox may not have recorded it yet)
		wantStatus   int // of the final APIError; 0 = success
		wantErrText  string
	}{
		{name: "500 then success", faults: []uploadtest.Fault{{Status: 500}}, wantRequests: 2},
		{name: "502, 503, 504 then success", faults: []uploadtest.Fault{{Status: 502}, {Status: 503}, {Status: 504}}, wantRequests: 4},
		// Once the whole request is sent, a missing answer is not retried:
		// the vendor may have stored it, and a second upload would store
		// it twice (no idempotency key).
		{name: "dropped connection: not resent", faults: []uploadtest.Fault{{Drop: true}}, wantRequests: 1, wantErrText: "no answer came"},
		{name: "dropped after a delay: not resent", faults: []uploadtest.Fault{{Delay: 20 * time.Millisecond, Drop: true}}, wantRequests: 1, wantErrText: "no answer came"},
		{
			name: "attempt timeout: not resent", faults: []uploadtest.Fault{{Delay: 30 * time.Second}},
			// The sandbox records the request when its handler ends, which
			// races with the client giving up: 0 or 1, never a second.
			policy: func(p *upload.RetryPolicy) { p.AttemptTimeout = 2 * time.Second }, wantRequests: -1, wantErrText: "no answer came",
		},
		{name: "429 then success", faults: []uploadtest.Fault{{Status: 429, RetryAfter: "0"}}, wantRequests: 2},
		{
			name: "500 until MaxAttempts", faults: []uploadtest.Fault{{Status: 500}, {Status: 500}, {Status: 500}, {Status: 500}},
			policy: func(p *upload.RetryPolicy) { p.MaxAttempts = 3 }, wantRequests: 3, wantStatus: 500, wantErrText: "gave up after 3 attempts",
		},

		{
			name: "MaxAttempts 1 disables retries", faults: []uploadtest.Fault{{Status: 500}},
			policy: func(p *upload.RetryPolicy) { p.MaxAttempts = 1 }, wantRequests: 1, wantStatus: 500, wantErrText: "gave up after 1 attempt",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, uploadtest.Config{})
			f.srv.Inject(tc.faults...)
			if tc.policy != nil {
				tc.policy(&f.client.Retry)
			}
			m, err := f.client.UploadNFC(context.Background(), f.session, nfc)
			if tc.wantRequests < 0 {
				assert.LessOrEqual(t, len(f.srv.Requests()), 1, "not sent twice")
			} else {
				assert.Len(t, f.srv.Requests(), tc.wantRequests)
			}
			if tc.wantErrText == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, m.ID)
				assert.Len(t, f.srv.Uploads(), 1, "stored once")
				return
			}
			require.ErrorContains(t, err, tc.wantErrText)
			if tc.wantRequests < 0 {
				assert.LessOrEqual(t, len(f.srv.Uploads()), 1, "stored at most once")
			} else {
				assert.Empty(t, f.srv.Uploads())
			}
			if tc.wantStatus == 0 {
				assert.ErrorIs(t, err, upload.ErrUnanswered)
			}
			if tc.wantStatus != 0 {
				var ae *upload.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, tc.wantStatus, ae.Status)
				assert.True(t, ae.Retryable)
				assert.ErrorIs(t, err, upload.ErrServer)
			}
		})
	}
}

func TestNotRetried(t *testing.T) {
	nfc := testNFC(t)
	otherSession := "f47ac10b-58cc-4372-a567-0e02b2c3d479"
	tests := []struct {
		name       string
		cfg        uploadtest.Config
		prepare    func(f *fixture)
		wantStatus int
		wantCode   string
		wantIs     error
		wantText   string
	}{
		{
			name: "401 unknown API key (1803)", prepare: func(f *fixture) { f.client.Credentials.Key = "another-key" },
			wantStatus: 401, wantCode: "1803", wantIs: upload.ErrUnauthorized, wantText: "not authorized (401, code 1803): check the API key",
		},
		{
			name: "401 wrong shared secret (1819)", prepare: func(f *fixture) { f.client.Credentials.Secret = []byte("another-secret") },
			wantStatus: 401, wantCode: "1819", wantIs: upload.ErrUnauthorized,
		},
		{
			name: "404 unknown session", prepare: func(f *fixture) { f.session = otherSession },
			wantStatus: 404, wantIs: upload.ErrSessionNotFound, wantText: "unknown session (404)",
		},
		{
			name: "409 session already submitted", prepare: func(f *fixture) { require.NoError(t, f.srv.SubmitSession(f.session)) },
			wantStatus: 409, wantIs: upload.ErrSessionSubmitted,
			wantText: "session already submitted (409): uploads must happen before the session is submitted",
		},
		{
			name: "409 keeps an injected vendor code", prepare: func(f *fixture) { f.srv.Inject(uploadtest.Fault{Status: 409, Code: "1304"}) },
			wantStatus: 409, wantCode: "1304", wantIs: upload.ErrSessionSubmitted,
		},
		{
			name: "400 code 1410 from the vendor", prepare: func(f *fixture) {
				f.srv.Inject(uploadtest.Fault{Status: 400, Code: "1410", Message: "NFC data format is invalid"})
			},
			wantStatus: 400, wantCode: "1410", wantIs: upload.ErrRejected, wantText: "NFC data rejected (400, code 1410)",
		},
		{
			name: "400 code 1412 from a server with a lower limit", cfg: uploadtest.Config{MaxNFCBytes: 10_000},
			wantStatus: 400, wantCode: "1412", wantIs: upload.ErrRejected, wantText: "combined size over the vendor's limit",
		},
		{
			name: "400 code 1101", prepare: func(f *fixture) {
				f.srv.Inject(uploadtest.Fault{Status: 400, Code: "1101", Message: "Validation failed"})
			},
			wantStatus: 400, wantCode: "1101", wantIs: upload.ErrRejected, wantText: `validation failed (400, code 1101); vendor says "Validation failed"`,
		},
		{
			name: "415 unsupported encoding", prepare: func(f *fixture) { f.srv.Inject(uploadtest.Fault{Status: 415, Code: "1415"}) },
			wantStatus: 415, wantCode: "1415", wantText: "content encoding refused (415, code 1415)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := setup(t, tc.cfg)
			if tc.prepare != nil {
				tc.prepare(f)
			}
			_, err := f.client.UploadNFC(context.Background(), f.session, nfc)
			var ae *upload.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.wantStatus, ae.Status)
			assert.Equal(t, tc.wantCode, ae.Code)
			assert.False(t, ae.Retryable)
			if tc.wantIs != nil {
				assert.ErrorIs(t, err, tc.wantIs)
			}
			assert.Contains(t, err.Error(), tc.wantText)
			assert.Len(t, f.srv.Requests(), 1, "sent once")
			assert.Empty(t, f.srv.Uploads())
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	f.srv.Inject(uploadtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "1"})
	nfc := testNFC(t)
	start := time.Now()
	_, err := f.client.UploadNFC(context.Background(), f.session, nfc)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second)
	assert.Len(t, f.srv.Requests(), 2)
}

func TestRetryAfterBeyondTimeLimit(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	f.client.Retry.MaxElapsed = 5 * time.Second
	f.srv.Inject(uploadtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30"})
	nfc := testNFC(t)
	start := time.Now()
	_, err := f.client.UploadNFC(context.Background(), f.session, nfc)
	require.ErrorContains(t, err, "no time left")
	assert.Less(t, time.Since(start), 10*time.Second, "gave up at once instead of waiting the 30 s Retry-After")
	assert.Len(t, f.srv.Requests(), 1)
}

func TestCancelStopsRetries(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	f.client.Retry.BaseDelay, f.client.Retry.MaxDelay = 10*time.Second, 10*time.Second
	f.srv.Inject(uploadtest.Fault{Status: 500}, uploadtest.Fault{Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel once the first 500 has been received in full, so the client is
	// in its backoff wait, not in the request.
	base := http.DefaultTransport
	f.client.HTTP = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err == nil {
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			err = rerr
		}
		cancel()
		return resp, err
	})}
	nfc := testNFC(t)
	_, err := f.client.UploadNFC(ctx, f.session, nfc)
	require.ErrorIs(t, err, context.Canceled)
	var ae *upload.APIError
	require.ErrorAs(t, err, &ae, "the last vendor error is kept")
	assert.Len(t, f.srv.Requests(), 1)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCancelDuringRequest(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	f.srv.Inject(uploadtest.Fault{Delay: 10 * time.Second})
	nfc := testNFC(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err := f.client.UploadNFC(ctx, f.session, nfc)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotContains(t, err.Error(), "attempts", "the caller's deadline is not retried")
}

func TestTimeLimit(t *testing.T) {
	f := setup(t, uploadtest.Config{})
	f.client.Retry = upload.RetryPolicy{MaxAttempts: 100, MaxElapsed: time.Second, BaseDelay: 100 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
	for range 100 {
		f.srv.Inject(uploadtest.Fault{Status: 500})
	}
	nfc := testNFC(t)
	_, err := f.client.UploadNFC(context.Background(), f.session, nfc)
	require.ErrorIs(t, err, upload.ErrServer)
	require.ErrorIs(t, err, upload.ErrTimeLimit)
	// 100 attempts were allowed; the 1 s limit stops the client well
	// before: pauses are at least 50 ms (equal jitter on 100 ms), so at
	// most 1 s / 50 ms + 1 attempts fit, whatever the machine's speed.
	assert.LessOrEqual(t, len(f.srv.Requests()), 21)
}
