package kiosk

import (
	"encoding/json"
	"slices"

	"github.com/nfcbridge/nfcbridge/outbox"
)

// A read's Status is its record: saved in the outbox (sealed, no personal
// data) when the read is accepted, when its files are stored for the
// upload, and at its outcome, and deleted when the read is forgotten
// ([Config.KeepFor], [Config.KeepReads]). After a restart, [New] finds
// every read again from the records and the outbox's entries:
//
//   - a record in a final state is listed as it was;
//   - a read whose files are in the outbox is queued, with its result
//     summary, and the outbox finishes it;
//   - any other read stopped before its chip read was complete and is
//     failed as interrupted: nothing of it was kept, read it again.

// persist saves st as its read's record. A read whose record cannot be
// saved goes on; only its restart behaviour suffers, which the log says.
func (s *Service) persist(st Status) {
	if s.cfg.Outbox == nil {
		return
	}
	if err := s.save(st); err != nil {
		s.log.Error("save read record", "read", st.ID, "error", err.Error())
	}
}

func (s *Service) save(st Status) error {
	if s.cfg.Outbox == nil {
		return nil
	}
	st.Progress = Progress{} // progress is for the live read only
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return s.cfg.Outbox.SaveRecord(st.ID, b)
}

// forget deletes the records of reads no longer kept.
func (s *Service) forget(ids []string) {
	if s.cfg.Outbox == nil {
		return
	}
	for _, id := range ids {
		if err := s.cfg.Outbox.DeleteRecord(id); err != nil {
			s.log.Warn("delete read record", "read", id, "error", err.Error())
		}
	}
}

// restore lists the reads of earlier runs; before s is shared.
func (s *Service) restore() {
	now := s.cfg.Now()
	base := int(now.UnixMicro())
	pending := map[string]outbox.Status{}
	for _, p := range s.cfg.Outbox.Pending() {
		pending[p.ReadID] = p
	}
	var restored []Status
	for _, rec := range s.cfg.Outbox.Records() {
		var st Status
		if err := json.Unmarshal(rec.Data, &st); err != nil || st.ID != rec.ReadID {
			s.log.Warn("unreadable read record skipped", "read", rec.ReadID)
			continue
		}
		restored = append(restored, st)
	}
	for _, p := range pending {
		if !slices.ContainsFunc(restored, func(st Status) bool { return st.ID == p.ReadID }) {
			// Queued by a version that kept no records.
			restored = append(restored, Status{ID: p.ReadID, State: Queued, SessionID: p.SessionID, Upload: true,
				CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt})
		}
	}
	slices.SortFunc(restored, func(a, b Status) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for _, st := range restored {
		switch p, queued := pending[st.ID]; {
		case st.State.Final():
		case queued || s.cfg.Outbox.Known(st.ID):
			// Its files are in the outbox, or its outcome is, which
			// the outbox reports again when it runs.
			st.State, st.UpdatedAt, st.Error = Queued, now, nil
			if st.Result == nil && len(p.Summary) > 0 {
				var r Result
				if json.Unmarshal(p.Summary, &r) == nil {
					st.Result = &r
				}
			}
			s.m.active.Inc()
		default:
			st.State, st.UpdatedAt, st.Error = Failed, now, interrupted()
			s.persist(st)
			s.m.reads.WithLabelValues(string(Failed), string(CodeInterrupted)).Inc()
		}
		s.add(newJob(st, base))
	}
}

// Reads lists the reads kept: those not finished, then the finished ones,
// newest first within each.
func (s *Service) Reads() []Status {
	s.mu.Lock()
	s.prune()
	out := make([]Status, 0, len(s.order))
	for _, j := range s.order {
		out = append(out, j.snapshot())
	}
	s.mu.Unlock()
	slices.SortStableFunc(out, func(a, b Status) int {
		if af, bf := a.State.Final(), b.State.Final(); af != bf {
			if af {
				return 1
			}
			return -1
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return out
}
