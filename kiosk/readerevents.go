package kiosk

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// ReadersEvent is the data of a "readers" event: the readers as GET
// /v1/readers lists them, or, while the reader service is unavailable, an
// empty list with the error.
type ReadersEvent struct {
	Readers []ReaderInfo `json:"readers"`
	Error   *Error       `json:"error,omitempty"`
}

// readerEvents streams the readers as server-sent events, so that a UI
// shows "place the document on the reader" and "document detected" without
// polling: one "readers" event at once, then one whenever a reader or a
// card comes or goes, or a reader becomes busy or free. It looks every poll
// (a cheap status query to pcscd) and sends a comment every keepAlive when
// nothing changed. The stream lasts until the client leaves.
func readerEvents(api readerLister, poll, keepAlive time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		startStream(w)
		var last []byte
		quiet := time.Duration(0)
		tick := time.NewTicker(poll)
		defer tick.Stop()
		for {
			ev := ReadersEvent{Readers: []ReaderInfo{}}
			rs, err := api.Readers(r.Context())
			if err != nil {
				if r.Context().Err() != nil {
					return
				}
				if e, ok := errors.AsType[*Error](err); ok {
					ev.Error = e
				} else {
					ev.Error = &Error{Code: CodeInternal, Message: "internal error; see the daemon log", Retryable: true}
				}
			} else {
				ev.Readers = append(ev.Readers, rs...)
			}
			b, err := json.Marshal(ev)
			if err != nil {
				return
			}
			rc.SetWriteDeadline(time.Now().Add(keepAlive + 10*time.Second))
			switch {
			case !slices.Equal(b, last):
				_, err = fmt.Fprintf(w, "event: readers\ndata: %s\n\n", b)
				last, quiet = b, 0
			case quiet >= keepAlive:
				_, err = fmt.Fprint(w, ": keep-alive\n\n")
				quiet = 0
			}
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
				quiet += poll
			}
		}
	}
}
