package kiosk

import (
	"context"
	"sync"
	"time"
)

// Event is one change of a read: its new Status, numbered in the order of
// the changes. Numbers are time-based (they start at the microseconds of
// the Unix time when the read was created or, after a restart, restored),
// so the numbers of one read never repeat across restarts of the daemon and
// a Last-Event-ID from before a restart is older than every event after it.
type Event struct {
	Seq    int
	Kind   EventKind
	Status Status
}

// EventKind tells a state change from a progress report.
type EventKind string

// Kinds of events.
const (
	StateEvent    EventKind = "state"
	ProgressEvent EventKind = "progress"
)

// maxEvents bounds the events kept per read. State changes are always
// kept; progress events beyond the bound are coalesced into the next event.
const maxEvents = 512

// job is one read: its status and the log of its changes. The card phase,
// the upload and the outbox's reports change it; GET and the event streams
// read it.
type job struct {
	id     string
	cancel context.CancelCauseFunc // nil once the read left the card and upload phases

	mu       sync.Mutex
	status   Status
	events   []Event
	seq      int
	changed  chan struct{} // closed and replaced at every change
	finished time.Time     // zero until a final state
	uploaded time.Time     // when the first upload attempt began
}

// newJob returns a read with st as its first event, numbered base+1.
func newJob(st Status, base int) *job {
	j := &job{id: st.ID, status: st, changed: make(chan struct{}), seq: base}
	j.record(StateEvent)
	if st.State.Final() {
		j.finished = st.UpdatedAt
	}
	return j
}

// snapshot returns the current status.
func (j *job) snapshot() Status {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.status
}

// update applies f to the status and records the change as an event of
// kind. Changes to a read in a final state are ignored: it is final. The
// new status is returned.
func (j *job) update(now time.Time, kind EventKind, f func(*Status)) (Status, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.status.State.Final() {
		return j.status, false
	}
	prev := j.status.State
	f(&j.status)
	j.status.UpdatedAt = now
	if j.status.State != prev {
		kind = StateEvent
	}
	if j.status.State.Final() {
		j.finished = now
		j.cancel = nil
	}
	j.record(kind)
	return j.status, true
}

// record appends the current status to the log; with the lock held.
func (j *job) record(kind EventKind) {
	j.seq++
	ev := Event{Seq: j.seq, Kind: kind, Status: j.status}
	switch {
	case j.status.State.Final():
		// Nobody needs the history of a finished read: a stream that
		// starts now gets the final status.
		j.events = append(j.events[:0:0], ev)
	case kind == ProgressEvent && len(j.events) > 0 && j.events[len(j.events)-1].Kind == ProgressEvent && len(j.events) >= maxEvents:
		j.events[len(j.events)-1] = ev
	default:
		j.events = append(j.events, ev)
	}
	close(j.changed)
	j.changed = make(chan struct{})
}

// since returns the events after seq (all kept events for seq 0, else at
// least the latest), and a channel closed at the next change. ended
// reports that there are none and none will follow: the read is final.
func (j *job) since(seq int) (evs []Event, changed <-chan struct{}, ended bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if seq > j.seq {
		seq = 0 // not a number of this run (a clock set back): start over
	}
	if seq >= j.seq {
		return nil, j.changed, j.status.State.Final()
	}
	i := len(j.events)
	for i > 0 && j.events[i-1].Seq > seq {
		i--
	}
	if i == len(j.events) {
		i = len(j.events) - 1
	}
	return append([]Event(nil), j.events[i:]...), j.changed, false
}

// finishedAt returns when the read reached a final state, zero if not yet.
func (j *job) finishedAt() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.finished
}

// cancelFunc returns the function that cancels the read's card or upload
// phase, nil when there is none to cancel.
func (j *job) cancelFunc() context.CancelCauseFunc {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cancel
}

// setCancel sets the cancel function of the read's active phase.
func (j *job) setCancel(c context.CancelCauseFunc) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cancel = c
}

// uploadStarted records when the first upload attempt began.
func (j *job) uploadStarted(t time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.uploaded = t
}

// uploadStart returns when the first upload attempt began, zero if none
// did in this run.
func (j *job) uploadStart() time.Time {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.uploaded
}
