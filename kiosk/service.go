package kiosk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
)

// Uploader uploads a read to the vendor; *upload.Client is one.
type Uploader interface {
	UploadNFC(ctx context.Context, sessionID string, nfc upload.NFC) (*upload.Media, error)
}

// Config configures a [Service]. Readers is required; every other zero
// value is documented.
type Config struct {
	// Readers gives access to the card readers, usually [PCSC].
	Readers Readers
	// Uploader uploads reads. nil means reads asking for an upload are
	// refused with upload_unavailable.
	Uploader Uploader
	// Outbox stores uploads that cannot be delivered now (network errors,
	// timeouts, 5xx, 429) and delivers them from [Service.Run]. nil means
	// such reads fail with upload_failed. The service does not close it.
	Outbox *outbox.Outbox
	// Read tunes the file reader (Le, extended length); its Progress is
	// set by the service.
	Read icao.ReadConfig
	// Trust returns the trust anchors of passive authentication (CSCAs,
	// CRLs) for each new read, so that a reload (SIGHUP) applies to the
	// next read; nil means none: every document is no_trust_anchor.
	Trust func() *pki.Store
	// Authenticity says what a document that is not authentic does to a
	// read; the zero value is [mrtd.Strict].
	Authenticity mrtd.Policy
	// CardTimeout bounds the wait for a card at the start of a read; zero
	// means 60 s.
	CardTimeout time.Duration
	// ReinsertTimeout bounds the wait for a card taken off mid-read to come
	// back; zero means 30 s.
	ReinsertTimeout time.Duration
	// ReadTimeout bounds one connection's read of the chip, from connecting
	// to the last byte; zero means 60 s.
	ReadTimeout time.Duration
	// MaxResumes bounds how often a read resumes after the card left or
	// the link failed; zero means 5, negative means never.
	MaxResumes int
	// UploadTimeout bounds the upload right after a read, retries included,
	// before it goes to the outbox; zero means 30 s.
	UploadTimeout time.Duration
	// KeepReads and KeepFor bound the finished reads kept for GET: at most
	// KeepReads (zero means 100), none older than KeepFor (zero means 1 h).
	// They hold no personal data.
	KeepReads int
	KeepFor   time.Duration
	// Version is reported by GET /v1/health.
	Version string
	// Logger receives one JSON-friendly record per state change and
	// failure, never personal data or secrets; nil means no logging.
	Logger *slog.Logger
	// Registerer registers the service's metrics, usually a private
	// prometheus.NewRegistry(); nil means no metrics.
	Registerer prometheus.Registerer
	// Now tells the time; nil means time.Now.
	Now func() time.Time
	// NewID returns a new read ID; nil means a random UUID.
	NewID func() string
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.CardTimeout, 60*time.Second)
	def(&c.ReinsertTimeout, 30*time.Second)
	def(&c.ReadTimeout, 60*time.Second)
	def(&c.UploadTimeout, 30*time.Second)
	def(&c.KeepFor, time.Hour)
	switch {
	case c.MaxResumes == 0:
		c.MaxResumes = 5
	case c.MaxResumes < 0:
		c.MaxResumes = 0
	}
	if c.KeepReads <= 0 {
		c.KeepReads = 100
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewID == nil {
		c.NewID = uuid.NewString
	}
}

// Service runs reads: one at a time per reader, several readers in
// parallel. Its methods are safe for concurrent use. It never keeps file
// contents after the upload or the hand-over to the outbox.
type Service struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	base context.Context // parent of every read's context
	wg   sync.WaitGroup  // read goroutines

	mu      sync.Mutex
	jobs    map[string]*job
	order   []*job            // in creation order, for pruning
	busy    map[string]string // reader name → ID of the read using it
	closing bool

	learned learnedReaders
}

// New returns a service. The reads of earlier runs recorded in cfg.Outbox
// are listed again (see records.go), so that their IDs stay valid across
// restarts.
func New(cfg Config) (*Service, error) {
	if cfg.Readers == nil {
		return nil, errors.New("kiosk: Config.Readers is required")
	}
	cfg.setDefaults()
	s := &Service{cfg: cfg, log: cfg.Logger, base: context.Background(),
		jobs: map[string]*job{}, busy: map[string]string{}}
	m, err := newMetrics(cfg.Registerer, gauges{outboxDepth: s.outboxDepth, pcscUp: s.pcscUp, version: cfg.Version})
	if err != nil {
		return nil, fmt.Errorf("kiosk: register metrics: %w", err)
	}
	s.m = m
	if cfg.Outbox != nil {
		s.restore()
	}
	return s, nil
}

func (s *Service) outboxDepth() float64 {
	if s.cfg.Outbox == nil {
		return 0
	}
	return float64(s.cfg.Outbox.Len())
}

// add registers j; with s.mu held or before s is shared.
func (s *Service) add(j *job) {
	s.jobs[j.id] = j
	s.order = append(s.order, j)
}

// ReaderInfo is one reader as GET /v1/readers lists it.
type ReaderInfo struct {
	Name        string `json:"name"`
	CardPresent bool   `json:"cardPresent"`
	// Busy reports that a read of this daemon is using the reader.
	Busy bool `json:"busy"`
}

// Readers lists the card readers.
func (s *Service) Readers(ctx context.Context) ([]ReaderInfo, error) {
	infos, err := s.cfg.Readers.Readers(ctx)
	if err != nil {
		return nil, readersError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ReaderInfo, 0, len(infos))
	for _, in := range infos {
		_, busy := s.busy[in.Name]
		out = append(out, ReaderInfo{Name: in.Name, CardPresent: in.CardPresent, Busy: busy})
	}
	return out, nil
}

// readersError maps a failure to list the readers to a request error.
func readersError(err error) error {
	switch {
	case errors.Is(err, reader.ErrNoService):
		return ErrPCSCUnavailable
	case errors.Is(err, reader.ErrAccessDenied):
		return ErrPCSCDenied
	}
	return fmt.Errorf("kiosk: list readers: %w", err)
}

// Health is the answer of GET /v1/health. It tells nothing about readers,
// reads or documents.
type Health struct {
	Status  string `json:"status"` // always "ok": the daemon answers
	Version string `json:"version"`
	PCSC    string `json:"pcsc"` // "up" or "down"
}

// Health reports whether the daemon and the PC/SC service are up.
func (s *Service) Health(ctx context.Context) Health {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h := Health{Status: "ok", Version: s.cfg.Version, PCSC: "up"}
	if _, err := s.cfg.Readers.Readers(ctx); err != nil {
		h.PCSC = "down"
	}
	return h
}

// Alive reports whether the service's lock can be taken: the watchdog's
// check that the service is not wedged.
func (s *Service) Alive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jobs != nil
}

// Start validates req, reserves a reader and starts the read in the
// background. It returns the new read's status (waiting_for_card).
func (s *Service) Start(ctx context.Context, req ReadRequest) (Status, error) {
	key, err := req.validate()
	if err != nil {
		return Status{}, err
	}
	if req.uploads() && s.cfg.Uploader == nil {
		return Status{}, ErrUploadUnavailable
	}
	infos, err := s.cfg.Readers.Readers(ctx)
	if err != nil {
		return Status{}, readersError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return Status{}, ErrShuttingDown
	}
	name, err := s.pickReader(infos, req.Reader)
	if err != nil {
		return Status{}, err
	}
	s.prune()
	now := s.cfg.Now()
	j := newJob(Status{ID: s.cfg.NewID(), State: WaitingForCard, SessionID: req.SessionID, Reader: name,
		Upload: req.uploads(), CreatedAt: now, UpdatedAt: now}, int(now.UnixMicro()))
	// Recorded before the 202: whatever happens next, the read is found
	// again, at worst as interrupted.
	if err := s.save(j.snapshot()); err != nil {
		s.log.Error("save read record", "read", j.id, "error", err.Error())
		return Status{}, &Error{Code: CodeInternal, Message: "the read could not be recorded (state directory full or not writable?); see the daemon log", Retryable: true}
	}
	rctx, cancel := context.WithCancelCause(s.base)
	j.cancel = cancel
	s.add(j)
	s.busy[name] = j.id
	s.m.active.Inc()
	s.log.Info("read started", "read", j.id, "reader", name, "session", req.SessionID, "upload", req.uploads())
	s.wg.Add(1)
	go s.run(rctx, j, key)
	return j.snapshot(), nil
}

// pickReader chooses the reader for a read: the one named, or the first
// free reader with a card, else the first free reader. With s.mu held.
func (s *Service) pickReader(infos []reader.Info, name string) (string, error) {
	if name != "" {
		if !slices.ContainsFunc(infos, func(in reader.Info) bool { return in.Name == name }) {
			return "", &Error{Code: CodeReaderNotFound, Field: "reader", Message: "no reader of that name is connected; GET /v1/readers lists them", Retryable: true}
		}
		if _, busy := s.busy[name]; busy {
			return "", ErrReaderBusy
		}
		return name, nil
	}
	if len(infos) == 0 {
		return "", &Error{Code: CodeReaderNotFound, Message: "no card reader is connected", Retryable: true}
	}
	free := ""
	for _, in := range infos {
		if _, busy := s.busy[in.Name]; busy {
			continue
		}
		if in.CardPresent {
			return in.Name, nil
		}
		if free == "" {
			free = in.Name
		}
	}
	if free == "" {
		return "", ErrReaderBusy
	}
	return free, nil
}

// prune forgets the oldest finished reads beyond Config.KeepReads and
// those finished longer than Config.KeepFor ago. With s.mu held.
func (s *Service) prune() {
	now := s.cfg.Now()
	finished := 0
	for _, j := range s.order {
		if !j.finishedAt().IsZero() {
			finished++
		}
	}
	kept := s.order[:0]
	var gone []string
	for _, j := range s.order {
		at := j.finishedAt()
		if !at.IsZero() && (finished > s.cfg.KeepReads || now.Sub(at) > s.cfg.KeepFor) {
			finished--
			delete(s.jobs, j.id)
			gone = append(gone, j.id)
			continue
		}
		kept = append(kept, j)
	}
	clear(s.order[len(kept):])
	s.order = kept
	s.forget(gone)
}

// Status returns the status of the read id.
func (s *Service) Status(id string) (Status, error) {
	j, err := s.job(id)
	if err != nil {
		return Status{}, err
	}
	return j.snapshot(), nil
}

func (s *Service) job(id string) (*job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.prune()
	j, ok := s.jobs[id]
	if !ok {
		return nil, ErrNotFound
	}
	return j, nil
}

// ErrNoMoreEvents is returned by [Service.Next] when the read is over and
// its final event is at or before the one asked after.
var ErrNoMoreEvents = errors.New("kiosk: the read is over: no more events")

// Next returns the events of read id after event number after, waiting
// until there is one or ctx ends. With after 0 it returns every event kept:
// all state changes since the read started. The last event of a read has a
// final state; asking after it gives ErrNoMoreEvents.
func (s *Service) Next(ctx context.Context, id string, after int) ([]Event, error) {
	j, err := s.job(id)
	if err != nil {
		return nil, err
	}
	for {
		evs, changed, ended := j.since(after)
		if len(evs) > 0 {
			return evs, nil
		}
		if ended {
			return nil, ErrNoMoreEvents
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// cancelWait bounds how long Cancel waits for the read to stop; an APDU
// under way cannot be interrupted.
const cancelWait = 5 * time.Second

// Cancel cancels the read id: the card is released, and an upload under
// way is aborted (one that was answered 2xx first is done). A finished read
// is returned as it is; a queued read cannot be canceled (ErrNotCancelable):
// it is stored and will be delivered.
func (s *Service) Cancel(ctx context.Context, id string) (Status, error) {
	j, err := s.job(id)
	if err != nil {
		return Status{}, err
	}
	st := j.snapshot()
	switch {
	case st.State.Final():
		return st, nil
	case st.State == Queued:
		return st, ErrNotCancelable
	}
	if cancel := j.cancelFunc(); cancel != nil {
		cancel(errUserCancel)
	}
	ctx, stop := context.WithTimeout(ctx, cancelWait)
	defer stop()
	after := 0
	for {
		evs, err := s.Next(ctx, id, after)
		if err != nil {
			return j.snapshot(), nil
		}
		last := evs[len(evs)-1]
		if last.Status.State.Final() || last.Status.State == Queued {
			return last.Status, nil
		}
		after = last.Seq
	}
}

// Run delivers the outbox's uploads until ctx ends and applies their
// outcomes to the reads. Without an outbox it waits for ctx.
func (s *Service) Run(ctx context.Context) error {
	if s.cfg.Outbox == nil {
		<-ctx.Done()
		return nil
	}
	err := s.cfg.Outbox.Run(ctx, s.deliverQueued, s.outboxEvent)
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("kiosk: outbox: %w", err)
}

// Shutdown stops the service: new reads are refused, reads at the card are
// canceled (their cards released), and uploads under way may finish until
// ctx ends; then they are canceled too, and go to the outbox if there is
// one. It returns when every read goroutine has ended, or with an error
// when some have not ended 5 s after being canceled.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	jobs := slices.Clone(s.order)
	s.mu.Unlock()
	for _, j := range jobs {
		if st := j.snapshot(); st.State != Uploading {
			if cancel := j.cancelFunc(); cancel != nil {
				cancel(errShutdown)
			}
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	for _, j := range jobs {
		if cancel := j.cancelFunc(); cancel != nil {
			cancel(errShutdown)
		}
	}
	// Canceled reads end at their next APDU or upload step; an exchange
	// stuck in a reader driver cannot be interrupted, so do not wait for it
	// forever: systemd's stop timeout must not be what ends the daemon.
	select {
	case <-done:
		return nil
	case <-time.After(shutdownStuck):
		return fmt.Errorf("kiosk: shutdown: reads still running %v after cancel (stuck in a reader driver?)", shutdownStuck)
	}
}

// shutdownStuck bounds the wait for canceled reads at shutdown.
const shutdownStuck = 5 * time.Second
