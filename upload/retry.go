package upload

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy bounds the retries of network errors, attempt timeouts, 5xx
// and 429 responses. Zero (or negative) fields take the defaults shown.
type RetryPolicy struct {
	MaxAttempts    int           // attempts in all, the first included; 0 = 5; 1 = no retries
	MaxElapsed     time.Duration // time for all attempts and waits together; 0 = 60 s
	AttemptTimeout time.Duration // time for one request and its response; 0 = 30 s
	BaseDelay      time.Duration // wait before the second attempt, doubled each time; 0 = 500 ms
	MaxDelay       time.Duration // largest wait between attempts; 0 = 8 s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 5
	}
	def(&p.MaxElapsed, 60*time.Second)
	def(&p.AttemptTimeout, 30*time.Second)
	def(&p.BaseDelay, 500*time.Millisecond)
	def(&p.MaxDelay, 8*time.Second)
	return p
}

// delay is the wait after attempt n (1-based); see [RetryDelay].
func (p RetryPolicy) delay(n int, rnd io.Reader) time.Duration {
	return RetryDelay(n, p.BaseDelay, p.MaxDelay, rnd)
}

// RetryDelay is the wait after failed attempt n (1-based): base·2^(n-1),
// at most max, with "equal jitter", uniformly random in [d/2, d] from rnd,
// so that clients that failed together do not retry together. The
// outbox's retries use it too. When rnd fails the wait is d.
func RetryDelay(n int, base, max time.Duration, rnd io.Reader) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	var b [8]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return d
	}
	f := float64(binary.LittleEndian.Uint64(b[:])>>11) / (1 << 53)
	return d/2 + time.Duration(f*float64(d/2))
}

// ErrTimeLimit means RetryPolicy.MaxElapsed ran out. The error also matches
// [context.DeadlineExceeded].
var ErrTimeLimit = errors.New("time limit for the upload reached")

// errAttemptTimeout ends one attempt (RetryPolicy.AttemptTimeout).
var errAttemptTimeout = errors.New("no response in time")

// outcome is how one attempt ended.
type outcome struct {
	err   error
	retry bool          // the same request may succeed
	after time.Duration // server's Retry-After, 0 if none
}

// transportOutcome classifies an error of http.Client.Do. ctx is the
// upload's context, actx the attempt's.
func transportOutcome(ctx, actx context.Context, err error) outcome {
	if ctx.Err() != nil {
		return outcome{err: contextError(ctx)}
	}
	if errors.Is(context.Cause(actx), errAttemptTimeout) {
		return outcome{err: fmt.Errorf("%w: %w", errAttemptTimeout, err), retry: true}
	}
	return outcome{err: fmt.Errorf("no response: %w", err), retry: retryableNetError(err)}
}

// contextError names why ctx ended: the caller, or the time limit.
func contextError(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrTimeLimit) {
		return fmt.Errorf("%w: %w", ErrTimeLimit, ctx.Err())
	}
	return context.Cause(ctx)
}

// retryableNetError reports whether a transport error may go away: resets,
// refused or dropped connections, EOFs and timeouts may; certificate and TLS
// protocol failures and unknown host names will not.
func retryableNetError(err error) bool {
	var dns *net.DNSError
	switch {
	case errors.As(err, new(*tls.CertificateVerificationError)),
		errors.As(err, new(tls.RecordHeaderError)),
		errors.As(err, new(tls.AlertError)):
		return false
	case errors.As(err, &dns):
		return !dns.IsNotFound
	}
	return true
}

// retryAfter reads Retry-After (RFC 9110 §10.2.3) of a 429 or 503.
func retryAfter(resp *http.Response, now time.Time) time.Duration {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return contextError(ctx)
	}
}
