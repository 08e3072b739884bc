package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// events streams a read's changes as server-sent events (text/event-stream,
// WHATWG HTML §9.2): one event per state or progress change, named "state"
// or "progress", with the event number as id and the read's Status as data,
// ending after the final state. A client that reconnects with Last-Event-ID
// continues after that event; after the final event it gets 204 No Content,
// which tells EventSource to stop reconnecting. Idle streams get a comment
// every keepAlive.
//
// Browsers' EventSource cannot send the Authorization header; browser UIs
// read the stream with fetch() instead. Tokens in URLs are not accepted.
func events(api eventWaiter, keepAlive time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		after, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
		after = max(after, 0)
		rc := http.NewResponseController(w)
		started := false
		for {
			ctx, cancel := context.WithTimeout(r.Context(), keepAlive)
			evs, err := api.Next(ctx, id, after)
			cancel()
			switch {
			case err != nil && r.Context().Err() != nil:
				return
			case errors.Is(err, ErrNoMoreEvents):
				if !started {
					w.Header().Set("Cache-Control", "no-store")
					w.WriteHeader(http.StatusNoContent)
				}
				return
			case err != nil && !errors.Is(err, context.DeadlineExceeded):
				if !started {
					writeError(w, err)
				}
				return
			}
			if !started {
				startStream(w)
				started = true
			}
			rc.SetWriteDeadline(time.Now().Add(keepAlive + 10*time.Second))
			if err := writeEvents(w, evs); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
			if n := len(evs); n > 0 {
				after = evs[n-1].Seq
				if evs[n-1].Status.State.Final() {
					return
				}
			}
		}
	}
}

func startStream(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
}

// writeEvents writes evs, or a keep-alive comment when there are none.
func writeEvents(w http.ResponseWriter, evs []Event) error {
	if len(evs) == 0 {
		_, err := fmt.Fprint(w, ": keep-alive\n\n")
		return err
	}
	for _, ev := range evs {
		b, err := json.Marshal(ev.Status)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, b); err != nil {
			return err
		}
	}
	return nil
}
