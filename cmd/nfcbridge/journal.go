package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
)

// journalHandler writes JSON records, each line prefixed with its syslog
// priority ("<3>" error, "<4>" warning, "<6>" info, "<7>" debug), which
// journald reads off a service's stderr (systemd.exec(5),
// SyslogLevelPrefix=): `journalctl -p warning` then finds the warnings.
type journalHandler struct {
	byLevel [4]slog.Handler // error, warn, info, debug
}

func newJournalHandler(w io.Writer, opts *slog.HandlerOptions) *journalHandler {
	var h journalHandler
	for i, prio := range []string{"<3>", "<4>", "<6>", "<7>"} {
		h.byLevel[i] = slog.NewJSONHandler(&prefixWriter{w: w, prefix: prio}, opts)
	}
	return &h
}

func (h *journalHandler) pick(l slog.Level) slog.Handler {
	switch {
	case l >= slog.LevelError:
		return h.byLevel[0]
	case l >= slog.LevelWarn:
		return h.byLevel[1]
	case l >= slog.LevelInfo:
		return h.byLevel[2]
	}
	return h.byLevel[3]
}

func (h *journalHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.pick(l).Enabled(ctx, l)
}

func (h *journalHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.pick(r.Level).Handle(ctx, r)
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var n journalHandler
	for i, in := range h.byLevel {
		n.byLevel[i] = in.WithAttrs(as)
	}
	return &n
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	var n journalHandler
	for i, in := range h.byLevel {
		n.byLevel[i] = in.WithGroup(name)
	}
	return &n
}

// prefixWriter writes each record (one Write call per record, as
// slog.JSONHandler does) behind its prefix, in one Write.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := p.w.Write(append([]byte(p.prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// toJournal reports whether w is the stream journald gave the service:
// $JOURNAL_STREAM names its device and inode (systemd.exec(5)).
func toJournal(e *env, w io.Writer) bool {
	stream := e.getenv("JOURNAL_STREAM")
	f, ok := w.(*os.File)
	if stream == "" || !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && stream == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}
