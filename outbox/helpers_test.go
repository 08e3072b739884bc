package outbox_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/upload"
	"github.com/nfcbridge/nfcbridge/upload/uploadtest"
)

// Test credentials and data: distinctive strings, so that a leak is easy to
// find.
const (
	testAPIKey = "KEY-0b4c7d22-must-never-leak"
	testSecret = "SECRET-6e01f9a3-must-never-leak"
	testMRZ    = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" + "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
)

// clock is a fake clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, outbox.KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// testNFC returns four small LDS files; DG1 holds the specimen MRZ and DG2
// a marker unique to seed.
func testNFC(seed byte) upload.NFC {
	com := []byte{0x60, 0x16, 0x5f, 0x01, 0x04, '0', '1', '0', '7', 0x5f, 0x36, 0x06, '0', '4', '0', '0', '0', '0', 0x5c, 0x04, 0x61, 0x75, 0x6e, 0x6f}
	sod := append([]byte{0x77, 0x82, 0x01, 0x00}, bytes.Repeat([]byte{0x30, seed}, 128)...)
	dg1 := append([]byte{0x61, 0x5b, 0x5f, 0x1f, 0x58}, testMRZ...)
	dg2 := append([]byte{0x75, 0x82, 0x00, 0x24}, []byte("DG2-FACE-IMAGE-BYTES-0123456789ab")...)
	dg2 = append(dg2, seed, seed)
	return upload.NFC{COM: com, SOD: sod, DG1: dg1, DG2: dg2}
}

func testItem(readID, sessionID string, seed byte) outbox.Item {
	return outbox.Item{ReadID: readID, SessionID: sessionID, NFC: testNFC(seed)}
}

// env is an outbox directory with its key and clock.
type env struct {
	t     *testing.T
	dir   string
	key   []byte
	clock *clock
}

func newEnv(t *testing.T) *env {
	return &env{t: t, dir: filepath.Join(t.TempDir(), "outbox"), key: testKey(t), clock: newClock()}
}

func (e *env) config() outbox.Config {
	return outbox.Config{Dir: e.dir, Key: e.key, Now: e.clock.Now,
		Backoff: outbox.Backoff{Initial: 5 * time.Second, Max: 40 * time.Second}}
}

// open opens the outbox and closes it at the end of the test.
func (e *env) open() *outbox.Outbox {
	e.t.Helper()
	o, err := outbox.Open(e.config())
	require.NoError(e.t, err)
	e.t.Cleanup(func() { o.Close() })
	return o
}

// files lists the names in the outbox directory.
func (e *env) files() []string {
	e.t.Helper()
	des, err := os.ReadDir(e.dir)
	require.NoError(e.t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

// filesWith lists the names ending in ext.
func (e *env) filesWith(ext string) []string {
	var out []string
	for _, n := range e.files() {
		if filepath.Ext(n) == ext {
			out = append(out, n)
		}
	}
	return out
}

// runner runs an Outbox in the background and collects its events.
type runner struct {
	t      *testing.T
	events chan outbox.Event
	cancel context.CancelFunc
	done   chan error
}

func run(t *testing.T, o *outbox.Outbox, deliver outbox.Deliver) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{t: t, events: make(chan outbox.Event, 1000), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- o.Run(ctx, deliver, func(ev outbox.Event) { r.events <- ev }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
			assert.Fail(t, "Run did not return")
		}
	})
	return r
}

// next waits for the next event (a safety timeout only; nothing asserts
// wall-clock time).
func (r *runner) next() outbox.Event {
	r.t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case err := <-r.done:
		r.done <- err
		require.FailNow(r.t, "Run returned while an event was expected", "Run returned %v", err)
	case <-time.After(20 * time.Second):
		require.FailNow(r.t, "no event")
	}
	return outbox.Event{}
}

// expect waits for the next event and checks its kind.
func (r *runner) expect(kind outbox.EventKind) outbox.Event {
	r.t.Helper()
	ev := r.next()
	require.Equal(r.t, kind, ev.Kind, "event %v", ev.LogValue())
	return ev
}

// stop ends Run and checks that it returned ctx's error.
func (r *runner) stop() {
	r.t.Helper()
	r.cancel()
	require.ErrorIs(r.t, r.returned(), context.Canceled)
}

// returned waits for Run to return on its own.
func (r *runner) returned() error {
	r.t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(20 * time.Second):
		require.FailNow(r.t, "Run did not return")
	}
	return nil
}

// newServer starts an uploadtest server on addr ("" for any port).
func newServer(t *testing.T, addr string) *uploadtest.Server {
	t.Helper()
	s := uploadtest.New(uploadtest.Config{Key: testAPIKey, Secret: []byte(testSecret)})
	require.NoError(t, s.Start(addr))
	t.Cleanup(func() { s.Close() })
	return s
}

// client uploads to baseURL without retries of its own.
func client(baseURL string) *upload.Client {
	return &upload.Client{
		BaseURL:     baseURL,
		Credentials: upload.Credentials{Key: testAPIKey, Secret: []byte(testSecret)},
		Retry:       upload.RetryPolicy{MaxAttempts: 1, AttemptTimeout: 10 * time.Second},
	}
}

var errCrash = errors.New("simulated crash")
