package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/outbox"
)

const (
	session1 = "3c6f0a52-8d1e-4f7b-9a20-5b1c3e7d9f01"
	session2 = "9e2d4b61-0c7a-4e38-b5f2-7a9d1c3e5b02"
)

// recorder is a Deliver that records the items and succeeds.
type recorder struct {
	mu    sync.Mutex
	items []outbox.Item
}

func (r *recorder) deliver(_ context.Context, it outbox.Item) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	// The outbox clears the files after delivery: keep copies.
	it.NFC.COM, it.NFC.SOD = bytes.Clone(it.NFC.COM), bytes.Clone(it.NFC.SOD)
	it.NFC.DG1, it.NFC.DG2 = bytes.Clone(it.NFC.DG1), bytes.Clone(it.NFC.DG2)
	r.items = append(r.items, it)
	return []byte(`{"id":"` + it.ReadID + `"}`), nil
}

func TestPutOpenRoundTrip(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	first, second := testItem("read-1", session1, 1), testItem("read-2", session2, 2)
	second.CreatedAt = e.clock.Now().Add(time.Second)
	require.NoError(t, o.Put(first))
	require.NoError(t, o.Put(second))
	require.Equal(t, 2, o.Len())
	require.NoError(t, o.Close())
	require.ErrorIs(t, o.Put(first), outbox.ErrClosed)

	// A new process: same directory, same key.
	o = e.open()
	pending := o.Pending()
	require.Len(t, pending, 2)
	for i, want := range []outbox.Item{first, second} {
		got := pending[i]
		assert.Equal(t, want.ReadID, got.ReadID)
		assert.Equal(t, want.SessionID, got.SessionID)
		assert.Len(t, got.ID, 32)
		assert.Zero(t, got.Attempts)
	}
	assert.True(t, pending[0].CreatedAt.Equal(e.clock.Now()), "CreatedAt defaults to Put's time")
	assert.True(t, pending[1].CreatedAt.Equal(second.CreatedAt))

	rec := &recorder{}
	r := run(t, o, rec.deliver)
	for _, want := range []outbox.Item{first, second} {
		ev := r.expect(outbox.Delivered)
		assert.Equal(t, want.ReadID, ev.ReadID)
		assert.Equal(t, `{"id":"`+want.ReadID+`"}`, string(ev.Result))
	}
	r.stop()
	require.Len(t, rec.items, 2)
	for i, want := range []outbox.Item{first, second} {
		assert.Equal(t, want.NFC, rec.items[i].NFC, "oldest first, files byte-exact")
		assert.Equal(t, want.SessionID, rec.items[i].SessionID)
	}
	assert.Zero(t, o.Len())
	assert.Equal(t, []string{".lock"}, e.files())
}

func TestRunReturnsContextError(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	r := run(t, o, (&recorder{}).deliver)
	r.cancel()
	require.ErrorIs(t, r.returned(), context.Canceled)
}

func TestFilesAreNotPlaintext(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	it := testItem("read-secret-7f3a", session1, 9)
	require.NoError(t, o.Put(it))
	// A failed attempt writes the state file too.
	r := run(t, o, func(context.Context, outbox.Item) ([]byte, error) { return nil, fmt.Errorf("network down") })
	r.expect(outbox.Retrying)
	r.stop()

	needles := map[string][]byte{
		"MRZ":         []byte(testMRZ),
		"MRZ line 2":  []byte("L898902C36"),
		"DG2":         []byte("DG2-FACE-IMAGE"),
		"SOD":         it.NFC.SOD[4:40],
		"session ID":  []byte(session1),
		"read ID":     []byte(it.ReadID),
		"session hex": []byte(strings.ReplaceAll(session1, "-", "")),
	}
	files := e.files()
	require.Len(t, files, 3, "lock, entry, state: %v", files)
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join(e.dir, name))
		require.NoError(t, err)
		for what, needle := range needles {
			assert.False(t, bytes.Contains(b, needle), "%s in %s", what, name)
			assert.NotContains(t, name, string(needle), "%s in a file name", what)
		}
		fi, err := os.Stat(filepath.Join(e.dir, name))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
	fi, err := os.Stat(e.dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
}

func TestWrongKeyQuarantines(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	require.NoError(t, o.Close())

	right := e.key
	e.key = testKey(t)
	o = e.open()
	require.Zero(t, o.Len())
	r := run(t, o, (&recorder{}).deliver)
	ev := r.expect(outbox.Quarantined)
	require.ErrorIs(t, ev.Err, outbox.ErrCorrupt)
	r.stop()
	bad := e.filesWith(".bad")
	require.Len(t, bad, 1, "kept, not deleted")
	assert.Equal(t, ev.ID+".entry.bad", bad[0])
	require.NoError(t, o.Close())

	// With the right key back, the entry is restored and delivered.
	e.key = right
	o = e.open()
	require.Equal(t, 1, o.Len())
	rec := &recorder{}
	r = run(t, o, rec.deliver)
	assert.Equal(t, "read-1", r.expect(outbox.Delivered).ReadID)
	r.stop()
	assert.Empty(t, e.filesWith(".bad"))
}

func TestQuarantinedExpire(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	require.NoError(t, o.Close())
	e.key = testKey(t)
	o = e.open()
	require.NoError(t, o.Close())
	bad := e.filesWith(".bad")
	require.Len(t, bad, 1)

	// The quarantined file is kept for the retention limit, counted from
	// when it was written.
	e.clock.Advance(outbox.DefaultRetention + time.Minute)
	old := e.clock.Now().Add(-outbox.DefaultRetention - time.Second)
	require.NoError(t, os.Chtimes(filepath.Join(e.dir, bad[0]), old, old))
	o = e.open()
	r := run(t, o, (&recorder{}).deliver)
	ev := r.expect(outbox.Expired)
	assert.ErrorIs(t, ev.Err, outbox.ErrCorrupt)
	r.stop()
	assert.Empty(t, e.filesWith(".bad"))
}

func TestCorruptEntries(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, path string)
	}{
		{"truncated", func(t *testing.T, path string) {
			b := readFile(t, path)
			writeFile(t, path, b[:len(b)/2])
		}},
		{"tag cut off", func(t *testing.T, path string) {
			b := readFile(t, path)
			writeFile(t, path, b[:len(b)-1])
		}},
		{"bit flip in ciphertext", func(t *testing.T, path string) {
			b := readFile(t, path)
			b[len(b)/2] ^= 0x10
			writeFile(t, path, b)
		}},
		{"bit flip in header", func(t *testing.T, path string) {
			b := readFile(t, path)
			b[4] ^= 0x01
			writeFile(t, path, b)
		}},
		{"bit flip in nonce", func(t *testing.T, path string) {
			b := readFile(t, path)
			b[8] ^= 0x80
			writeFile(t, path, b)
		}},
		{"empty", func(t *testing.T, path string) { writeFile(t, path, nil) }},
		{"garbage", func(t *testing.T, path string) { writeFile(t, path, bytes.Repeat([]byte{0xA5}, 500)) }},
		{"renamed to another ID", func(t *testing.T, path string) {
			other := filepath.Join(filepath.Dir(path), strings.Repeat("ab", 16)+".entry")
			require.NoError(t, os.Rename(path, other))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := newServer(t, "")
			sid := srv.NewSession()
			o := e.open()
			require.NoError(t, o.Put(testItem("victim", sid, 1)))
			victim := o.Pending()[0].ID
			e.clock.Advance(time.Second)
			require.NoError(t, o.Put(testItem("good", sid, 2)))
			require.NoError(t, o.Close())
			tc.corrupt(t, filepath.Join(e.dir, victim+".entry"))

			o = e.open()
			require.Equal(t, 1, o.Len())
			r := run(t, o, outbox.Uploader(client(srv.URL())))
			ev := r.expect(outbox.Quarantined)
			assert.ErrorIs(t, ev.Err, outbox.ErrCorrupt)
			assert.Equal(t, "good", r.expect(outbox.Delivered).ReadID)
			r.stop()
			assert.Len(t, e.filesWith(".bad"), 1)
			require.Len(t, srv.Uploads(), 1)
			assert.Equal(t, testNFC(2).DG2, srv.Uploads()[0].NFC["dg2"])
		})
	}
}

// TestCorruptWhileQueued corrupts an entry after Open loaded it: Run
// quarantines it when it comes to deliver it.
func TestCorruptWhileQueued(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("victim", session1, 1)))
	path := filepath.Join(e.dir, o.Pending()[0].ID+".entry")
	b := readFile(t, path)
	b[len(b)-3] ^= 1
	writeFile(t, path, b)
	rec := &recorder{}
	r := run(t, o, rec.deliver)
	ev := r.expect(outbox.Quarantined)
	assert.Equal(t, "victim", ev.ReadID)
	assert.ErrorIs(t, ev.Err, outbox.ErrCorrupt)
	r.stop()
	assert.Empty(t, rec.items)
	assert.Zero(t, o.Len())
}

func TestOpenTidiesCrashLeftovers(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	id := o.Pending()[0].ID
	require.NoError(t, o.Close())
	// A crash during a write leaves a temporary file; a state file whose
	// entry is gone is an orphan; unknown files are not ours.
	writeFile(t, filepath.Join(e.dir, ".tmp-123456"), []byte("partial"))
	writeFile(t, filepath.Join(e.dir, strings.Repeat("cd", 16)+".state"), []byte("orphan"))
	writeFile(t, filepath.Join(e.dir, "README"), []byte("not ours"))
	writeFile(t, filepath.Join(e.dir, id+".state"), []byte("unreadable state"))

	o = e.open()
	require.Equal(t, 1, o.Len())
	assert.Zero(t, o.Pending()[0].Attempts, "an unreadable state is ignored")
	assert.ElementsMatch(t, []string{".lock", "README", id + ".entry", id + ".state"}, e.files())
}

func TestLocked(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	_, err := outbox.Open(e.config())
	require.ErrorIs(t, err, outbox.ErrLocked)
	r := run(t, o, (&recorder{}).deliver)
	require.NoError(t, o.Put(testItem("read-1", session1, 1)))
	r.expect(outbox.Delivered) // Run is running
	require.ErrorIs(t, o.Run(context.Background(), (&recorder{}).deliver, nil), outbox.ErrRunning)
	require.ErrorIs(t, o.Close(), outbox.ErrRunning)
	r.stop()
	require.NoError(t, o.Close())
	require.ErrorIs(t, o.Run(context.Background(), (&recorder{}).deliver, nil), outbox.ErrClosed)
	o2, err := outbox.Open(e.config())
	require.NoError(t, err)
	require.NoError(t, o2.Close())
}

func TestOpenConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  outbox.Config
		want error
	}{
		{"short key", outbox.Config{Dir: t.TempDir(), Key: make([]byte, 16)}, outbox.ErrKey},
		{"no key", outbox.Config{Dir: t.TempDir()}, outbox.ErrKey},
		{"no dir", outbox.Config{Key: make([]byte, 32)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := outbox.Open(tc.cfg)
			require.Error(t, err)
			require.Nil(t, o)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestConcurrentPuts(t *testing.T) {
	e := newEnv(t)
	o := e.open()
	rec := &recorder{}
	r := run(t, o, rec.deliver)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			assert.NoError(t, o.Put(testItem(fmt.Sprintf("read-%d", i), session1, byte(i))))
			_ = o.Len()
			_ = o.Pending()
		})
	}
	wg.Wait()
	seen := map[string]int{}
	for range n {
		seen[r.expect(outbox.Delivered).ReadID]++
	}
	r.stop()
	require.Len(t, seen, n)
	for id, c := range seen {
		assert.Equal(t, 1, c, id)
	}
	assert.Len(t, rec.items, n)
	assert.Zero(t, o.Len())
}

func TestItemNeverPrintsFiles(t *testing.T) {
	it := testItem("read-1", session1, 1)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("queued", "item", it)
	for _, s := range []string{
		fmt.Sprintf("%v", it), fmt.Sprintf("%+v", it), fmt.Sprintf("%#v", it), fmt.Sprintf("%s", it),
		fmt.Sprintf("%x", it), fmt.Sprint(it), logged.String(),
	} {
		assert.NotContains(t, s, "L898902C36")
		assert.NotContains(t, s, "ERIKSSON")
		assert.NotContains(t, s, "DG2-FACE")
		assert.NotContains(t, s, "4c383938", "hex of the MRZ")
		assert.Contains(t, s, "read-1")
	}
}

func TestEventLogValue(t *testing.T) {
	ev := outbox.Event{Kind: outbox.Delivered, ID: "id", ReadID: "read-1", Result: []byte(`{"name":"SECRET-RESULT"}`)}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("outbox", "event", ev)
	assert.Contains(t, logged.String(), `"kind":"delivered"`)
	assert.NotContains(t, logged.String(), "SECRET-RESULT")
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, b, 0o600))
}
