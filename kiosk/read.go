package kiosk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/reader"
)

// pollInterval spaces the attempts to reach a pcscd that is not running.
const pollInterval = 250 * time.Millisecond

// run is a read's goroutine: the card phase, then the upload.
func (s *Service) run(ctx context.Context, j *job, key mrtd.Key) {
	defer s.wg.Done()
	st := j.snapshot()
	start := s.cfg.Now()
	doc, err := s.readCard(ctx, j, key, st.Reader)
	s.release(st.Reader, j.id)
	if err != nil {
		s.failRead(ctx, j, err)
		return
	}
	defer doc.Clear() // the bytes are overwritten once uploaded or queued
	s.m.readSeconds.Observe(doc.Stats.Elapsed.Seconds())
	res := newResult(doc)
	s.log.Info("chip read", "read", j.id, "apdus", doc.Stats.APDUs, "bytes", doc.BytesRead(),
		"readMs", doc.Stats.Elapsed.Milliseconds(), "totalMs", s.cfg.Now().Sub(start).Milliseconds(),
		"authenticity", doc.Authenticity)
	s.m.authenticity(doc.Authenticity)
	problem := doc.Authenticity.Problem()
	switch {
	case problem != nil && s.cfg.Authenticity == mrtd.Strict:
		s.finish(j, Failed, res, notAuthentic(problem))
	case !st.Upload:
		s.finish(j, Done, res, nil)
	default:
		s.upload(ctx, j, doc, res)
	}
}

// release frees the reader for the next read.
func (s *Service) release(name, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[name] == id {
		delete(s.busy, name)
	}
}

// readCard waits for the card, reads it, and resumes the read when the card
// was taken off and put back (or the link failed) until it is complete.
func (s *Service) readCard(ctx context.Context, j *job, key mrtd.Key, name string) (*mrtd.Document, error) {
	m := newMeter(mrtd.DefaultFiles())
	cfg := s.mrtdConfig(j, m)
	cfg.Learned = s.learned.get(name)
	card, err := s.connect(ctx, name, s.cfg.CardTimeout, errCardTimeout)
	if err != nil {
		return nil, err
	}
	var doc *mrtd.Document
	for resumes := 0; ; resumes++ {
		doc, err = s.attempt(ctx, card, key, doc, cfg)
		card.Close()
		if err == nil || !resumable(err) || resumes >= s.cfg.MaxResumes || ctx.Err() != nil {
			break
		}
		s.log.Info("card lost, waiting for it to come back", "read", j.id, "error", errorCode(err), "bytesRead", doc.BytesRead())
		s.m.resumes.Inc()
		s.update(j, ProgressEvent, func(st *Status) { st.State = WaitingForCard; st.Resumes = resumes + 1 })
		if card, err = s.connect(ctx, name, s.cfg.ReinsertTimeout, errNotBack); err != nil {
			break
		}
	}
	if doc != nil {
		s.m.apdus.Add(float64(doc.Stats.APDUs))
		s.learned.set(name, doc.Learned)
	}
	if err != nil {
		if doc != nil {
			doc.Clear()
		}
		return nil, err
	}
	s.update(j, ProgressEvent, func(st *Status) { st.Progress = m.complete(doc) })
	return doc, nil
}

// attempt reads (prev nil) or resumes the read of the chip on one
// connection, within Config.ReadTimeout.
func (s *Service) attempt(ctx context.Context, card Card, key mrtd.Key, prev *mrtd.Document, cfg *mrtd.Config) (*mrtd.Document, error) {
	rctx, cancel := context.WithTimeoutCause(ctx, s.cfg.ReadTimeout, errReadTimeout)
	defer cancel()
	doc, err := mrtd.Resume(rctx, card, key, prev, cfg)
	if err != nil && ctx.Err() == nil && rctx.Err() != nil {
		err = fmt.Errorf("%w: %w", errReadTimeout, err)
	}
	return doc, err
}

// mrtdConfig hooks the read's steps and progress into j.
func (s *Service) mrtdConfig(j *job, m *meter) *mrtd.Config {
	cfg := &mrtd.Config{Read: s.cfg.Read, Files: mrtd.DefaultFiles(), Now: s.cfg.Now}
	if s.cfg.Trust != nil {
		cfg.Trust = s.cfg.Trust()
	}
	cfg.OnStep = func(step mrtd.Step) {
		state := Reading
		if step == mrtd.Authenticating {
			state = Authenticating
		}
		s.update(j, StateEvent, func(st *Status) { st.State = state })
	}
	cfg.Read.Progress = func(f icao.EF, done, total int) {
		p := m.report(f, done, total)
		s.update(j, ProgressEvent, func(st *Status) { st.Progress = p })
	}
	return cfg
}

// resumable reports an error after which the read can go on once the card
// is back: it was taken away, the reader or pcscd went away and came back,
// or the radio link failed.
func resumable(err error) bool {
	for _, e := range []error{reader.ErrCardRemoved, reader.ErrNoCard, reader.ErrCommunication, reader.ErrNoService, reader.ErrReaderGone} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// connect waits up to timeout for a card in the reader called name and
// connects to it. pcscd not running, or the card gone between the wait and
// the connection, are waited out too. When the time is up the error wraps
// cause; when ctx ends, ctx's cause.
func (s *Service) connect(ctx context.Context, name string, timeout time.Duration, cause error) (Card, error) {
	wctx, cancel := context.WithTimeoutCause(ctx, timeout, cause)
	defer cancel()
	for {
		_, err := s.cfg.Readers.WaitForCard(wctx, name)
		if err == nil {
			var card Card
			if card, err = s.cfg.Readers.Connect(wctx, name); err == nil {
				return card, nil
			}
		}
		// pcscd answers 0x8010006A (access denied) to new calls while it
		// shuts down, so a refusal is waited out like pcscd's absence; a
		// lasting one was already refused when the read was requested.
		transient := pcscDown(err) || errors.Is(err, reader.ErrAccessDenied)
		switch {
		case ctx.Err() != nil:
			return nil, context.Cause(ctx)
		case wctx.Err() != nil && transient:
			return nil, err
		case wctx.Err() != nil:
			return nil, fmt.Errorf("%w: %w", cause, err)
		case !transient && !errors.Is(err, reader.ErrNoCard) && !errors.Is(err, reader.ErrReaderGone):
			return nil, err
		}
		select {
		case <-time.After(pollInterval):
		case <-wctx.Done():
		}
	}
}

// failRead ends a read whose card phase failed: canceled when its context
// was canceled, else failed with the error's code.
func (s *Service) failRead(ctx context.Context, j *job, err error) {
	if cause := context.Cause(ctx); cause != nil {
		s.finish(j, Canceled, nil, canceled(cause))
		return
	}
	s.end(j, Failed, nil, readFailure(err), err)
}

// errorCode is the code an error would be reported with, for logs.
func errorCode(err error) Code { return readFailure(err).Code }

// learnedReaders holds, per reader name, what the last read on the reader
// learned about it and the chip model in it ([mrtd.Learned]), so that the
// next passport pays no probing; mrtd applies it only to a card with the
// same ATR. The zero value is ready to use.
type learnedReaders struct {
	mu sync.Mutex
	m  map[string]mrtd.Learned
}

func (l *learnedReaders) get(name string) mrtd.Learned {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[name]
}

func (l *learnedReaders) set(name string, v mrtd.Learned) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[string]mrtd.Learned{}
	}
	l.m[name] = v
}
