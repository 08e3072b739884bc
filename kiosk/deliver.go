package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/outbox"
	"github.com/nfcbridge/nfcbridge/upload"
)

// update changes j's status and logs state changes.
func (s *Service) update(j *job, kind EventKind, f func(*Status)) {
	before := j.snapshot().State
	st, ok := j.update(s.cfg.Now(), kind, f)
	if ok && st.State != before && !st.State.Final() {
		s.log.Info("read state", "read", j.id, "state", string(st.State))
	}
}

// finish puts j into a final state (or Queued) and counts the outcome.
func (s *Service) finish(j *job, state State, res *Result, e *Error) { s.end(j, state, res, e, nil) }

// end is finish with the failure's cause for the log: error texts of the
// packages below name steps, files and status words, never personal data.
func (s *Service) end(j *job, state State, res *Result, e *Error, cause error) {
	st, ok := j.update(s.cfg.Now(), StateEvent, func(st *Status) {
		st.State = state
		if res != nil {
			st.Result = res
		}
		st.Error = e
	})
	if !ok {
		return // already final: a repeated outbox report
	}
	s.persist(st)
	attrs := []any{"read", j.id, "state", string(state), "elapsedMs", st.UpdatedAt.Sub(st.CreatedAt).Milliseconds()}
	if e != nil {
		attrs = append(attrs, "code", string(e.Code))
	}
	if cause != nil {
		attrs = append(attrs, "cause", cause.Error())
	}
	if state == Queued {
		s.log.Info("read queued for upload", attrs...)
		return
	}
	s.m.active.Dec()
	code := ""
	if e != nil {
		code = string(e.Code)
	}
	s.m.reads.WithLabelValues(string(state), code).Inc()
	level := slog.LevelInfo
	if state == Failed {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "read finished", attrs...)
}

// nfcOf returns the files the vendor takes.
func nfcOf(doc *mrtd.Document) upload.NFC {
	return upload.NFC{COM: doc.Files[icao.EFCOM], SOD: doc.Files[icao.EFSOD], DG1: doc.Files[icao.EFDG1], DG2: doc.Files[icao.EFDG2]}
}

// upload sends the read to the vendor. With an outbox, the files and the
// result summary are stored there first (write-ahead), and the first
// attempt is made from that entry: a crash at any later point loses
// nothing. Without one, the upload is made from memory.
func (s *Service) upload(ctx context.Context, j *job, doc *mrtd.Document, res *Result) {
	if s.cfg.Outbox == nil {
		s.uploadNow(ctx, j, doc, res)
		return
	}
	summary, err := json.Marshal(res)
	if err != nil {
		s.uploadNow(ctx, j, doc, res)
		return
	}
	id, err := s.cfg.Outbox.Store(outbox.Item{ReadID: j.id, SessionID: j.snapshot().SessionID, NFC: nfcOf(doc),
		CreatedAt: s.cfg.Now(), Summary: summary})
	if err != nil {
		// Not durable, but the vendor may still take it now.
		s.log.Error("outbox: store read before upload", "read", j.id, "error", err.Error())
		s.uploadNow(ctx, j, doc, res)
		return
	}
	j.uploadStarted(s.cfg.Now())
	s.update(j, StateEvent, func(st *Status) { st.State = Uploading; st.Result = res })
	s.persist(j.snapshot())
	uctx, cancel := context.WithTimeout(ctx, s.cfg.UploadTimeout)
	err = s.cfg.Outbox.Send(uctx, id, s.deliverFirst, s.outboxEvent)
	cancel()
	if err == nil {
		return // s.outboxEvent applied the outcome, or queued the read
	}
	if errors.Is(context.Cause(ctx), errUserCancel) {
		if derr := s.cfg.Outbox.Drop(id); derr != nil {
			s.log.Error("outbox: drop canceled upload", "read", j.id, "error", derr.Error())
		}
		s.finish(j, Canceled, nil, &Error{Code: CodeCanceled,
			Message: "the upload was canceled before the vendor confirmed it; if the vendor had already received it, the session shows it", Retryable: true})
		return
	}
	// The upload time ran out, or the daemon is stopping: the entry stays
	// in the outbox, which delivers it.
	s.log.Info("upload deferred", "read", j.id, "error", err.Error())
	s.finish(j, Queued, nil, nil)
}

// uploadNow uploads the read from memory, and queues it if it cannot be
// delivered now: the path without an outbox, or when storing failed.
func (s *Service) uploadNow(ctx context.Context, j *job, doc *mrtd.Document, res *Result) {
	s.update(j, StateEvent, func(st *Status) { st.State = Uploading; st.Result = res })
	nfc := nfcOf(doc)
	start := s.cfg.Now()
	uctx, cancel := context.WithTimeout(ctx, s.cfg.UploadTimeout)
	media, err := s.cfg.Uploader.UploadNFC(uctx, j.snapshot().SessionID, nfc)
	cancel()
	elapsed := s.cfg.Now().Sub(start)
	withUpload := func(raw []byte) *Result {
		r := *res
		r.UploadMillis = elapsed.Milliseconds()
		r.Media = raw
		return &r
	}
	cause := context.Cause(ctx)
	switch {
	case err == nil:
		s.m.uploadSeconds.WithLabelValues("ok").Observe(elapsed.Seconds())
		s.finish(j, Done, withUpload(media.Raw), nil)
	case errors.Is(cause, errUserCancel):
		s.m.uploadSeconds.WithLabelValues("canceled").Observe(elapsed.Seconds())
		s.finish(j, Canceled, withUpload(nil), &Error{Code: CodeCanceled,
			Message: "the upload was canceled before the vendor confirmed it; if the vendor had already received it, the session shows it", Retryable: true})
	case s.cfg.Outbox != nil && (deliverable(err) || errors.Is(cause, errShutdown)):
		s.m.uploadSeconds.WithLabelValues("queued").Observe(elapsed.Seconds())
		s.queue(j, nfc, withUpload(nil), err)
	default:
		s.m.uploadSeconds.WithLabelValues("failed").Observe(elapsed.Seconds())
		s.end(j, Failed, withUpload(nil), uploadFailure(err), err)
	}
}

// queue stores the read in the outbox; the outbox's events finish it.
func (s *Service) queue(j *job, nfc upload.NFC, res *Result, cause error) {
	j.setCancel(nil)
	s.log.Info("upload deferred", "read", j.id, "error", cause.Error())
	it := outbox.Item{ReadID: j.id, SessionID: j.snapshot().SessionID, NFC: nfc, CreatedAt: s.cfg.Now()}
	if err := s.cfg.Outbox.Put(it); err != nil {
		s.log.Error("outbox: store upload", "read", j.id, "error", err.Error())
		s.finish(j, Failed, res, &Error{Code: CodeUploadFailed,
			Message: "the vendor could not be reached and the upload could not be stored for later; read the document again", Retryable: true})
		return
	}
	s.finish(j, Queued, res, nil)
}

// deliverFirst is the delivery of the upload right after the read: an
// answer that will not change (see deliverable) fails the read at once,
// where the outbox's later attempts would retry some of them.
func (s *Service) deliverFirst(ctx context.Context, it outbox.Item) ([]byte, error) {
	m, err := s.deliverQueued(ctx, it)
	if err != nil && ctx.Err() == nil && !deliverable(err) {
		return nil, outbox.Final(err)
	}
	return m, err
}

// deliverQueued is the outbox's delivery function.
func (s *Service) deliverQueued(ctx context.Context, it outbox.Item) ([]byte, error) {
	if s.cfg.Uploader == nil {
		return nil, ErrUploadUnavailable // retried: a restart with credentials delivers it
	}
	start := s.cfg.Now()
	m, err := s.cfg.Uploader.UploadNFC(ctx, it.SessionID, it.NFC)
	result := "ok"
	if err != nil {
		result = "failed"
	}
	s.m.uploadSeconds.WithLabelValues(result).Observe(s.cfg.Now().Sub(start).Seconds())
	if err != nil {
		return nil, err
	}
	return m.Raw, nil
}

// outboxEvent applies an outcome of a queued upload to its read.
func (s *Service) outboxEvent(ev outbox.Event) {
	s.m.outboxEvents.WithLabelValues(ev.Kind.String()).Inc()
	s.log.Info("outbox", "event", ev)
	s.mu.Lock()
	j := s.jobs[ev.ReadID]
	s.mu.Unlock()
	if j == nil {
		return // finished and forgotten, or from before a restart and already reported
	}
	res := j.snapshot().Result
	if res == nil {
		res = &Result{}
	}
	r := *res
	if at := j.uploadStart(); !at.IsZero() {
		r.UploadMillis = s.cfg.Now().Sub(at).Milliseconds()
	}
	switch ev.Kind {
	case outbox.Delivered:
		r.Media = append([]byte(nil), ev.Result...)
		s.finish(j, Done, &r, nil)
	case outbox.Retrying:
		if j.snapshot().State == Uploading {
			s.finish(j, Queued, nil, nil) // the first attempt failed: the outbox retries
		}
	case outbox.Failed:
		s.end(j, Failed, &r, uploadFailure(ev.Err), ev.Err)
	case outbox.Expired:
		s.finish(j, Failed, &r, uploadFailure(errUploadExpired))
	case outbox.Quarantined:
		s.finish(j, Failed, &r, &Error{Code: CodeInternal, Message: "the stored upload could not be decrypted (wrong outbox key or damaged file); it was set aside"})
	}
}
