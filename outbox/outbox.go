package outbox

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
	"github.com/nfcbridge/nfcbridge/upload"
)

// DefaultRetention is how long an entry is kept when [Config.Retention] is 0.
const DefaultRetention = 24 * time.Hour

// Errors of the outbox's life cycle.
var (
	// ErrLocked means another Outbox, in this or another process, has the
	// directory open.
	ErrLocked = errors.New("outbox: directory in use by another process")
	// ErrClosed means the Outbox was closed.
	ErrClosed = errors.New("outbox: closed")
	// ErrRunning means [Outbox.Run] is already running, or [Outbox.Close]
	// was called while it runs.
	ErrRunning = errors.New("outbox: Run is running")
)

// Config configures an [Outbox]. Dir and Key are required.
type Config struct {
	// Dir holds the entries, such as $STATE_DIRECTORY/outbox. It is created
	// with mode 0700 if missing; an existing one open to other users is
	// refused ([PrivateDir]). Use it for nothing else.
	Dir string
	// Key is the 32-byte AES-256-GCM key ([LoadKey], [KeyFromCredentials]).
	// Open does not keep the slice; the caller may clear it afterwards.
	Key []byte
	// Retention is how long an entry is kept, from [Item.CreatedAt]; 0
	// means [DefaultRetention].
	Retention time.Duration
	// Backoff spaces the retries; the zero value has sensible defaults.
	Backoff Backoff
	// Permanent tells whether a delivery error is final; nil means
	// [Permanent].
	Permanent func(error) bool
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// Rand is the source of entry IDs, nonces and jitter; nil means
	// crypto/rand. It is used under a lock.
	Rand io.Reader
}

// Backoff spaces the retries of an entry: the wait after the nth failed
// attempt is Initial·2^(n−1), at most Max, with "equal jitter" (uniform in
// [d/2, d]) so that entries that failed together do not retry together.
type Backoff struct {
	Initial time.Duration // wait after the first failure; 0 (or negative) = 5 s
	Max     time.Duration // longest wait; 0 (or negative) = 5 min
}

// Item is one upload: the four files of a read and the IDs it belongs to.
// It has no String method; Format and LogValue print the IDs only.
type Item struct {
	ReadID    string     // the daemon's ID of the read, reported in events
	SessionID string     // the vendor session to upload to
	NFC       upload.NFC // the files as read from the chip
	// CreatedAt is when the read finished; retention counts from it. The
	// zero value means the time of [Outbox.Put].
	CreatedAt time.Time
	// Summary is what the caller wants back with the entry after a restart
	// ([Status.Summary]), such as the read's result without personal data;
	// at most 1 MiB, sealed like the files.
	Summary []byte
}

// LogValue implements [slog.LogValuer]: the IDs and the time, never the files.
func (it Item) LogValue() slog.Value {
	return slog.GroupValue(slog.String("readId", it.ReadID), slog.String("sessionId", it.SessionID),
		slog.Time("createdAt", it.CreatedAt))
}

// Format implements [fmt.Formatter] for every verb: the IDs only, never the
// files.
func (it Item) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "outbox.Item{ReadID:%q SessionID:%q}", it.ReadID, it.SessionID)
}

// Status describes a queued entry, for an API or metrics. It holds no
// personal data.
type Status struct {
	ID          string    // the entry's opaque ID (32 hex digits)
	ReadID      string    // [Item.ReadID]
	SessionID   string    // [Item.SessionID]
	Attempts    int       // failed delivery attempts so far
	NextAttempt time.Time // when the next attempt is due
	CreatedAt   time.Time // [Item.CreatedAt]
	Summary     []byte    // [Item.Summary]
}

// Outbox is a durable queue of uploads in a directory. Its methods are safe
// for concurrent use.
type Outbox struct {
	dir       string
	aead      cipher.AEAD
	retention time.Duration
	backoff   Backoff
	permanent func(error) bool
	now       func() time.Time
	rand      io.Reader
	lock      *os.File
	wake      chan struct{}

	mu       sync.Mutex
	entries  map[string]*entry
	records  []Record // found by Open
	startup  []Event  // found by Open, reported by the first Run
	kicks    int
	running  bool
	closed   bool
	runSeams seams
}

// entry is the in-memory record of a queued entry; the files stay on disk.
type entry struct {
	id, readID, sessionID string
	created               time.Time
	summary               []byte
	state
	// finished means an outcome was decided and reported: the entry is
	// never delivered again, only its files remain to be removed.
	finished bool
	// held means the caller of Store makes the first attempt: Run leaves
	// the entry alone until Send returns.
	held bool
}

// seams stop Run at points a crash could, for tests.
type seams struct {
	beforeMarker func(id string) error // after a successful delivery
	afterMarker  func(id string) error // after the done marker is durable
}

// Open opens the outbox in cfg.Dir, creating the directory if needed, and
// loads the entries a previous run left. It takes a lock on the directory
// ([ErrLocked]). Files left by a crash are tidied: temporary files removed,
// entries with a done marker deleted (their [Delivered] event is reported
// again by [Outbox.Run]). A file that cannot be opened is quarantined, not
// fatal: the next Run reports it as a [Quarantined] event.
func Open(cfg Config) (*Outbox, error) {
	if cfg.Dir == "" {
		return nil, errors.New("outbox: Config.Dir is empty")
	}
	aead, err := newAEAD(cfg.Key)
	if err != nil {
		return nil, err
	}
	if err := PrivateDir(cfg.Dir); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	o := &Outbox{dir: cfg.Dir, aead: aead, retention: cfg.Retention, backoff: cfg.Backoff,
		permanent: cfg.Permanent, now: cfg.Now, rand: cfg.Rand,
		wake: make(chan struct{}, 1), entries: make(map[string]*entry)}
	o.setDefaults()
	if o.lock, err = lockDir(cfg.Dir); err != nil {
		return nil, err
	}
	if err := o.load(); err != nil {
		o.lock.Close()
		return nil, err
	}
	return o, nil
}

func (o *Outbox) setDefaults() {
	if o.retention <= 0 {
		o.retention = DefaultRetention
	}
	if o.backoff.Initial <= 0 {
		o.backoff.Initial = 5 * time.Second
	}
	if o.backoff.Max <= 0 {
		o.backoff.Max = 5 * time.Minute
	}
	if o.permanent == nil {
		o.permanent = Permanent
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.rand == nil {
		o.rand = rand.Reader
	}
	o.rand = &lockedReader{r: o.rand}
}

// Put stores it durably and wakes [Outbox.Run]: when Put returns nil, the
// item survives any crash. The files are sealed under the key; the file
// name is a new random ID.
func (o *Outbox) Put(it Item) error {
	_, err := o.put(it, false)
	return err
}

// Store stores it durably like [Outbox.Put], but the first delivery
// attempt is the caller's, with [Outbox.Send]: Run leaves the entry alone
// until then. It returns the entry's ID. A caller that stores a read
// before uploading it loses nothing to a crash during the upload.
func (o *Outbox) Store(it Item) (string, error) {
	return o.put(it, true)
}

func (o *Outbox) put(it Item, held bool) (string, error) {
	if it.CreatedAt.IsZero() {
		it.CreatedAt = o.now()
	}
	plain, err := encodeItem(it)
	if err != nil {
		return "", err
	}
	defer clear(plain)
	o.mu.Lock()
	closed := o.closed
	o.mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	id, err := o.create(plain)
	if err != nil {
		return "", err
	}
	o.mu.Lock()
	o.entries[id] = &entry{id: id, readID: it.ReadID, sessionID: it.SessionID, created: it.CreatedAt,
		summary: append([]byte(nil), it.Summary...), state: state{next: o.now()}, held: held}
	o.mu.Unlock()
	if !held {
		o.wakeup()
	}
	return id, nil
}

// Drop deletes the entry id without delivering it, such as when the user
// canceled the read during its first attempt. No event is reported.
func (o *Outbox) Drop(id string) error {
	o.mu.Lock()
	_, ok := o.entries[id]
	o.mu.Unlock()
	if !ok {
		return fmt.Errorf("outbox: no entry %s", id)
	}
	o.finish(id)
	return nil
}

// create writes a new entry file under a fresh ID. The file is linked into
// place, which never replaces an existing file, so even a broken Rand
// cannot make two entries share a file.
func (o *Outbox) create(plain []byte) (string, error) {
	for range 8 {
		id, err := o.newID()
		if err != nil {
			return "", err
		}
		if o.inUse(id) {
			continue
		}
		sealed, err := seal(o.aead, o.rand, kindEntry, id, plain)
		if err != nil {
			return "", err
		}
		err = atomicfile.Create(filepath.Join(o.dir, id+extEntry), sealed, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("outbox: writing entry: %w", err)
		}
		return id, nil
	}
	return "", errors.New("outbox: no unused entry ID: is Config.Rand random?")
}

func (o *Outbox) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(o.rand, b[:]); err != nil {
		return "", fmt.Errorf("outbox: reading random ID: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// inUse reports whether id is known or has any file.
func (o *Outbox) inUse(id string) bool {
	o.mu.Lock()
	_, ok := o.entries[id]
	o.mu.Unlock()
	for _, ext := range []string{extEntry, extState, extDone, extBad} {
		if _, err := os.Lstat(filepath.Join(o.dir, id+ext)); !errors.Is(err, fs.ErrNotExist) {
			ok = true
		}
	}
	return ok
}

// Len is the number of queued entries (the outbox depth).
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, e := range o.entries {
		if !e.finished {
			n++
		}
	}
	return n
}

// Pending describes the queued entries, oldest first.
func (o *Outbox) Pending() []Status {
	o.mu.Lock()
	var out []Status
	for _, e := range o.entries {
		if !e.finished {
			out = append(out, Status{ID: e.id, ReadID: e.readID, SessionID: e.sessionID,
				Attempts: e.attempts, NextAttempt: e.next, CreatedAt: e.created, Summary: e.summary})
		}
	}
	o.mu.Unlock()
	slices.SortFunc(out, func(a, b Status) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Kick makes every queued entry due now, such as when the network is back.
// The attempt counts (and so the following waits) are kept.
func (o *Outbox) Kick() {
	o.mu.Lock()
	now := o.now()
	for _, e := range o.entries {
		if !e.finished {
			e.next = now
		}
	}
	o.kicks++
	o.mu.Unlock()
	o.wakeup()
}

// Close releases the directory. Call it after [Outbox.Run] has returned;
// the entries stay on disk for the next [Open].
func (o *Outbox) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.running {
		return ErrRunning
	}
	if o.closed {
		return nil
	}
	o.closed = true
	if err := o.lock.Close(); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return nil
}

// wakeup makes Run look at the entries again.
func (o *Outbox) wakeup() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// lockedReader serialises reads of a Rand that need not be safe for
// concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}
