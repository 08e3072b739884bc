package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptrace"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

// checkBackoff asserts that the wait after the nth failure is within the
// equal-jitter bounds of Backoff{5 s, 40 s}.
func checkBackoff(t *testing.T, ev outbox.Event, now time.Time, n int) {
	t.Helper()
	require.Equal(t, n, ev.Attempts)
	d := min(5*time.Second<<(n-1), 40*time.Second)
	wait := ev.NextAttempt.Sub(now)
	assert.GreaterOrEqual(t, wait, d/2, "attempt %d", n)
	assert.LessOrEqual(t, wait, d, "attempt %d", n)
}

func TestAPIDownThenUp(t *testing.T) {
	e := newEnv(t)
	// A server that is gone: its address refuses connections.
	down := newServer(t, "")
	addr := strings.TrimPrefix(down.URL(), "http://")
	require.NoError(t, down.Close())

	o := e.open()
	sid := "5f0e8c2a-1b3d-4e5f-8a7b-9c0d1e2f3a4b"
	require.NoError(t, o.Put(testItem("read-1", sid, 1)))
	r := run(t, o, outbox.Uploader(client("http://"+addr)))
	for n := 1; n <= 5; n++ {
		ev := r.expect(outbox.Retrying)
		var netErr net.Error
		require.True(t, errors.As(ev.Err, &netErr) || strings.Contains(ev.Err.Error(), "refused"), "%v", ev.Err)
		checkBackoff(t, ev, e.clock.Now(), n)
		p := o.Pending()
		require.Len(t, p, 1)
		assert.Equal(t, n, p[0].Attempts)
		assert.True(t, p[0].NextAttempt.Equal(ev.NextAttempt))
		e.clock.Advance(ev.NextAttempt.Sub(e.clock.Now()))
		if n < 5 {
			o.Poke()
		}
	}
	// The API is back on the same address.
	up := uploadtest.New(uploadtest.Config{Key: testAPIKey, Secret: []byte(testSecret)})
	require.NoError(t, up.AddSession(sid))
	require.NoError(t, up.Start(addr))
	t.Cleanup(func() { up.Close() })
	o.Kick()
	ev := r.expect(outbox.Delivered)
	assert.Equal(t, "read-1", ev.ReadID)
	assert.Contains(t, string(ev.Result), `"sessionId":"`+sid+`"`)

	// Nothing more is sent, however long we wait.
	e.clock.Advance(48 * time.Hour)
	o.Kick()
	o.Poke()
	r.stop()
	assert.Len(t, up.Requests(), 1)
	require.Len(t, up.Uploads(), 1)
	assert.Equal(t, testNFC(1).DG1, up.Uploads()[0].NFC["dg1"])
	assert.Zero(t, o.Len())
	assert.Equal(t, []string{".lock"}, e.files())
}

func TestServerErrorsAcrossRestart(t *testing.T) {
	e := newEnv(t)
	srv := newServer(t, "")
	sid := srv.NewSession()
	srv.Inject(uploadtest.Fault{Status: 503}, uploadtest.Fault{Status: 500})

	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", sid, 1)))
	r := run(t, o, outbox.Uploader(client(srv.URL())))
	ev := r.expect(outbox.Retrying)
	require.ErrorIs(t, ev.Err, upload.ErrServer)
	checkBackoff(t, ev, e.clock.Now(), 1)
	r.stop()
	require.NoError(t, o.Close())

	// Restart: the attempt count and the next attempt time survive.
	o = e.open()
	p := o.Pending()
	require.Len(t, p, 1)
	assert.Equal(t, 1, p[0].Attempts)
	assert.True(t, p[0].NextAttempt.Equal(ev.NextAttempt), "%v != %v", p[0].NextAttempt, ev.NextAttempt)
	r = run(t, o, outbox.Uploader(client(srv.URL())))
	e.clock.Advance(ev.NextAttempt.Sub(e.clock.Now()))
	o.Poke()
	ev = r.expect(outbox.Retrying)
	checkBackoff(t, ev, e.clock.Now(), 2)
	e.clock.Advance(ev.NextAttempt.Sub(e.clock.Now()))
	o.Poke()
	r.expect(outbox.Delivered)
	r.stop()
	assert.Len(t, srv.Requests(), 3)
	assert.Len(t, srv.Uploads(), 1)
}

func TestPermanentErrorDrops(t *testing.T) {
	tests := []struct {
		name  string
		setup func(srv *uploadtest.Server, sid string)
		want  error
	}{
		{"409 submitted", func(srv *uploadtest.Server, sid string) { srv.SubmitSession(sid) }, upload.ErrSessionSubmitted},
		{"404 unknown session", func(srv *uploadtest.Server, sid string) {}, upload.ErrSessionNotFound},
		{"400 rejected", func(srv *uploadtest.Server, sid string) {
			srv.AddSession(sid)
			srv.Inject(uploadtest.Fault{Status: 400, Code: "1101"})
		}, upload.ErrRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := newServer(t, "")
			sid := "0d7c1e52-3a4b-4c5d-9e6f-7a8b9c0d1e2f"
			tc.setup(srv, sid)
			o := e.open()
			require.NoError(t, o.Put(testItem("read-1", sid, 1)))
			r := run(t, o, outbox.Uploader(client(srv.URL())))
			ev := r.expect(outbox.Failed)
			assert.Equal(t, "read-1", ev.ReadID)
			require.ErrorIs(t, ev.Err, tc.want)
			r.stop()
			assert.Len(t, srv.Requests(), 1)
			assert.Zero(t, o.Len())
			assert.Equal(t, []string{".lock"}, e.files())
		})
	}
}

func TestRetentionExpiry(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	calls := 0
	failing := func(context.Context, outbox.Item) ([]byte, error) {
		calls++
		return nil, fmt.Errorf("network down")
	}
	require.NoError(t, o.Put(testItem("fresh", session1, 1)))
	old := testItem("old", session2, 2)
	old.CreatedAt = e.clock.Now().Add(-outbox.DefaultRetention - time.Minute)
	require.NoError(t, o.Put(old))

	r := run(t, o, failing)
	// The old entry is expired without an attempt; the fresh one is tried.
	events := map[outbox.EventKind]outbox.Event{}
	for range 2 {
		ev := r.next()
		events[ev.Kind] = ev
	}
	assert.Equal(t, "old", events[outbox.Expired].ReadID)
	assert.Equal(t, "fresh", events[outbox.Retrying].ReadID)
	assert.Equal(t, 1, o.Len())

	// The retry is due after the retention limit: expiry comes first.
	e.clock.Advance(outbox.DefaultRetention)
	o.Poke()
	assert.Equal(t, "fresh", r.expect(outbox.Expired).ReadID)
	r.stop()
	assert.Equal(t, 1, calls)
	assert.Zero(t, o.Len())
	assert.Equal(t, []string{".lock"}, e.files())
}

func TestCrashAfterDoneMarker(t *testing.T) {
	e := newEnv(t)
	srv := newServer(t, "")
	sid := srv.NewSession()
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", sid, 1)))
	o.SetCrashPoints(nil, func(string) error { return errCrash })
	r := run(t, o, outbox.Uploader(client(srv.URL())))
	require.ErrorIs(t, r.returned(), errCrash)
	require.Len(t, srv.Uploads(), 1)
	require.Len(t, e.filesWith(".done"), 1)
	require.Len(t, e.filesWith(".entry"), 1, "the crash left the entry")
	require.NoError(t, o.Close()) // the process died: only the lock goes

	o = e.open()
	assert.Zero(t, o.Len(), "a delivered entry is not queued again")
	assert.Empty(t, e.filesWith(".entry"))
	r = run(t, o, outbox.Uploader(client(srv.URL())))
	ev := r.expect(outbox.Delivered) // reported again, with the result
	assert.Equal(t, "read-1", ev.ReadID)
	assert.Contains(t, string(ev.Result), `"sessionId":"`+sid+`"`)
	e.clock.Advance(time.Hour)
	o.Kick()
	r.stop()
	assert.Len(t, srv.Requests(), 1, "never sent twice")
	assert.Equal(t, []string{".lock"}, e.files())
}

// TestCrashBeforeDoneMarker covers the window between the vendor storing
// the upload and the done marker being durable: the attempt had marked the
// entry as sending, so after the crash the entry is reported failed with
// ErrUnconfirmed and never sent a second time.
func TestCrashBeforeDoneMarker(t *testing.T) {
	e := newEnv(t)
	srv := newServer(t, "")
	sid := srv.NewSession()
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", sid, 1)))
	o.SetCrashPoints(func(string) error { return errCrash }, nil)
	r := run(t, o, outbox.Uploader(client(srv.URL())))
	require.ErrorIs(t, r.returned(), errCrash)
	require.NoError(t, o.Close())

	o = e.open()
	require.Zero(t, o.Len(), "not queued again")
	r = run(t, o, outbox.Uploader(client(srv.URL())))
	ev := r.expect(outbox.Failed)
	assert.ErrorIs(t, ev.Err, outbox.ErrUnconfirmed)
	assert.Equal(t, "read-1", ev.ReadID)
	e.clock.Advance(time.Hour)
	o.Kick()
	r.stop()
	assert.Len(t, srv.Uploads(), 1, "never sent twice")
	assert.Equal(t, []string{".lock"}, e.files())
}

// TestCrashWhileVendorDown: an attempt that never had a connection (the
// vendor refuses connections) marks nothing, so after a crash the entry
// is still queued and delivered once the vendor is back.
func TestCrashWhileVendorDown(t *testing.T) {
	e := newEnv(t)
	srv := newServer(t, "")
	sid := srv.NewSession()
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", sid, 1)))
	r := run(t, o, outbox.Uploader(client("http://127.0.0.1:1")))
	r.expect(outbox.Retrying)
	r.stop()
	require.NoError(t, o.Close()) // as good as a crash: nothing else is written at stop

	o = e.open()
	require.Equal(t, 1, o.Len())
	o.Kick()
	r = run(t, o, outbox.Uploader(client(srv.URL())))
	r.expect(outbox.Delivered)
	r.stop()
	assert.Len(t, srv.Uploads(), 1)
}

// TestStoreAndSend: a stored entry is left to its caller's first attempt,
// then to Run.
func TestStoreAndSend(t *testing.T) {
	e := newEnv(t)
	srv := newServer(t, "")
	sid := srv.NewSession()
	o := e.open()
	it := testItem("read-1", sid, 1)
	it.Summary = []byte(`{"apdus":7}`)
	id, err := o.Store(it)
	require.NoError(t, err)
	r := run(t, o, outbox.Uploader(client(srv.URL())))
	time.Sleep(50 * time.Millisecond)
	assert.Empty(t, srv.Requests(), "Run leaves a held entry alone")
	p := o.Pending()
	require.Len(t, p, 1)
	assert.Equal(t, it.Summary, p[0].Summary)

	var got []outbox.Event
	require.NoError(t, o.Send(context.Background(), id, outbox.Uploader(client(srv.URL())), func(ev outbox.Event) { got = append(got, ev) }))
	require.Len(t, got, 1)
	assert.Equal(t, outbox.Delivered, got[0].Kind)
	r.stop()
	assert.Len(t, srv.Uploads(), 1)
	assert.Zero(t, o.Len())

	// A stored entry whose first attempt fails goes to Run.
	id, err = o.Store(testItem("read-2", sid, 2))
	require.NoError(t, err)
	require.NoError(t, o.Send(context.Background(), id, outbox.Uploader(client("http://127.0.0.1:1")), nil))
	require.Equal(t, 1, o.Len())
	o.Kick()
	r = run(t, o, outbox.Uploader(client(srv.URL())))
	r.expect(outbox.Delivered)
	r.stop()
	assert.Len(t, srv.Uploads(), 2)

	// Drop removes a stored entry unsent.
	id, err = o.Store(testItem("read-3", sid, 3))
	require.NoError(t, err)
	require.NoError(t, o.Drop(id))
	assert.Zero(t, o.Len())
	assert.Equal(t, []string{".lock"}, e.files())
}

// TestRecords: records survive a reopen, are replaced and deleted, and
// one sealed under another key is skipped.
func TestRecords(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.SaveRecord("read-1", []byte(`{"state":"waiting"}`)))
	require.NoError(t, o.SaveRecord("read-1", []byte(`{"state":"done"}`)))
	require.NoError(t, o.SaveRecord("read/../2", []byte(`{"state":"failed"}`)))
	require.NoError(t, o.Close())

	o = e.open()
	recs := o.Records()
	require.Len(t, recs, 2)
	byID := map[string]string{}
	for _, r := range recs {
		byID[r.ReadID] = string(r.Data)
	}
	assert.Equal(t, map[string]string{"read-1": `{"state":"done"}`, "read/../2": `{"state":"failed"}`}, byID)
	require.NoError(t, o.DeleteRecord("read-1"))
	require.NoError(t, o.DeleteRecord("never"))
	require.NoError(t, o.Close())

	other := *e
	other.key = make([]byte, outbox.KeySize)
	o = other.open()
	assert.Empty(t, o.Records(), "another key opens nothing")
	require.NoError(t, o.Close())
	o = e.open()
	require.Len(t, o.Records(), 1)
	assert.Equal(t, "read/../2", o.Records()[0].ReadID)
}

func TestKickDuringAttempt(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	attempts := 0
	deliver := func(context.Context, outbox.Item) ([]byte, error) {
		attempts++
		if attempts == 1 {
			o.Kick() // the network came back while this attempt failed
			return nil, errors.New("network down")
		}
		return nil, nil
	}
	r := run(t, o, deliver)
	ev := r.expect(outbox.Retrying)
	assert.True(t, ev.NextAttempt.Equal(e.clock.Now()), "due at once after a Kick")
	r.expect(outbox.Delivered)
	r.stop()
}

func TestCanceledAttemptNotCounted(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	started := make(chan struct{})
	deliver := func(ctx context.Context, _ outbox.Item) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	r := run(t, o, deliver)
	<-started
	r.stop()
	assert.Zero(t, o.Pending()[0].Attempts)
}

func TestPermanent(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"409", &upload.APIError{Status: 409}, true},
		{"400", &upload.APIError{Status: 400, Code: "1101"}, true},
		{"401 is our credentials", &upload.APIError{Status: 401}, false},
		{"401 with a bad signature", errors.Join(&upload.APIError{Status: 401}, upload.ErrResponseSignature), false},
		{"403", &upload.APIError{Status: 403}, true},
		{"503 with a bad signature", errors.Join(&upload.APIError{Status: 503, Retryable: true}, upload.ErrResponseSignature), false},
		{"429", &upload.APIError{Status: 429, Retryable: true}, false},
		{"503", &upload.APIError{Status: 503, Retryable: true}, false},
		{"wrapped 404", fmt.Errorf("upload: %w", &upload.APIError{Status: 404}), true},
		{"size", &upload.SizeError{Limit: 10, Size: 11}, true},
		{"NFC format", fmt.Errorf("x: %w", upload.ErrNFCFormat), true},
		{"session ID", upload.ErrInvalidSessionID, true},
		{"bad response signature", upload.ErrResponseSignature, true},
		{"malformed 2xx", upload.ErrMalformedResponse, true},
		{"network", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{"time limit", upload.ErrTimeLimit, false},
		{"credentials", upload.ErrNoCredentials, false},
		{"deadline", context.DeadlineExceeded, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, outbox.Permanent(tc.err))
		})
	}
}

func TestUnauthorizedRetries(t *testing.T) {
	e := newEnv(t)
	srv := newServer(t, "")
	sid := srv.NewSession()
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", sid, 1)))
	c := client(srv.URL())
	c.Credentials.Key = "KEY-rotated-wrong"
	r := run(t, o, outbox.Uploader(c))
	ev := r.expect(outbox.Retrying)
	require.ErrorIs(t, ev.Err, upload.ErrUnauthorized)
	r.stop()
	require.NoError(t, o.Close())

	// The operator fixes the credentials; the read was kept.
	o = e.open()
	r = run(t, o, outbox.Uploader(client(srv.URL())))
	e.clock.Advance(ev.NextAttempt.Sub(e.clock.Now()))
	o.Poke()
	r.expect(outbox.Delivered)
	r.stop()
	assert.Len(t, srv.Uploads(), 1)
}

func TestClockSetBack(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	r := run(t, o, func(context.Context, outbox.Item) ([]byte, error) { return nil, errors.New("down") })
	r.expect(outbox.Retrying)
	r.stop()
	require.NoError(t, o.Close())

	e.clock.Advance(-2 * time.Hour)
	o = e.open()
	next := o.Pending()[0].NextAttempt
	assert.False(t, next.After(e.clock.Now().Add(40*time.Second)), "at most one full wait (Backoff.Max)")
}

// TestUnansweredNotResent: an attempt whose whole request reached the vendor
// and got no answer (the vendor hangs, the connection breaks) may have been
// stored: it fails with ErrUnconfirmed and is never sent again.
func TestUnansweredNotResent(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", "0b6e5a4c-1f0e-4a8a-9d6f-3f0e3c2b1a00", 1)))
	attempts := 0
	r := run(t, o, func(ctx context.Context, _ outbox.Item) ([]byte, error) {
		attempts++
		// As the upload client does: connected (the outbox marks the
		// entry), wrote the whole request, got no answer.
		if tr := httptrace.ContextClientTrace(ctx); tr != nil && tr.GotConn != nil {
			tr.GotConn(httptrace.GotConnInfo{})
		}
		return nil, fmt.Errorf("%w: timeout", upload.ErrUnanswered)
	})
	ev := r.expect(outbox.Failed)
	assert.ErrorIs(t, ev.Err, outbox.ErrUnconfirmed)
	e.clock.Advance(time.Hour)
	o.Kick()
	r.stop()
	assert.Equal(t, 1, attempts, "never sent again")
	assert.Zero(t, o.Len())
}
