package apdutest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nfcbridge/nfcbridge/icao"
)

// update makes [Transcript] record a live session instead of replaying the
// file: go test ./pkg -run TestX -update.
var update = flag.Bool("update", false, "apdutest: record testdata/transcripts/*.apdu from the live transport")

// Recorder is a Transport that passes every exchange to Transport and keeps
// a copy of the command and the response (or the error).
type Recorder struct {
	Transport icao.Transport
	mu        sync.Mutex
	exchanges []Exchange
}

// Transmit passes capdu on and records the exchange.
func (r *Recorder) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	resp, err := r.Transport.Transmit(ctx, capdu)
	r.mu.Lock()
	r.exchanges = append(r.exchanges, Exchange{Cmd: bytes.Clone(capdu), Resp: bytes.Clone(resp), Err: err})
	r.mu.Unlock()
	return resp, err
}

// Exchanges returns what has been recorded so far.
func (r *Recorder) Exchanges() []Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Exchange(nil), r.exchanges...)
}

// Transcript returns the transport for a golden-transcript test named name
// (testdata/transcripts/NAME.apdu in the test's package directory). It
// replays the file with a [Script], or with -update records live (which
// must be deterministic: fixed random sources on both sides) and writes
// the file when the test ends. Record only specimen or test documents.
func Transcript(t testing.TB, name string, live func() icao.Transport) icao.Transport {
	t.Helper()
	path := filepath.Join("testdata", "transcripts", name+".apdu")
	if !*update {
		steps, err := ReadTranscript(path)
		if err != nil {
			t.Fatalf("apdutest: %v (record it with -update)", err)
		}
		return NewScript(t, steps...)
	}
	rec := &Recorder{Transport: live()}
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		if err := WriteTranscript(path, rec.Exchanges()); err != nil {
			t.Errorf("apdutest: %v", err)
		}
	})
	return rec
}

// ReadTranscript parses a transcript file: "> " and a command in hex, then
// "< " and its response in hex, repeated; lines starting with '#' and blank
// lines are comments.
func ReadTranscript(path string) ([]Exchange, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseTranscript(b)
}

// ParseTranscript parses the contents of a transcript file.
func ParseTranscript(b []byte) ([]Exchange, error) {
	var out []Exchange
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		dir, h, ok := strings.Cut(text, " ")
		v, err := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if !ok || err != nil {
			return nil, fmt.Errorf("transcript line %d: want \"> HEX\" or \"< HEX\"", line)
		}
		switch {
		case dir == ">":
			out = append(out, Exchange{Cmd: v})
		case dir == "<" && len(out) > 0 && out[len(out)-1].Resp == nil:
			out[len(out)-1].Resp = v
		default:
			return nil, fmt.Errorf("transcript line %d: %q out of order", line, dir)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) > 0 && out[len(out)-1].Resp == nil {
		return nil, fmt.Errorf("transcript: the last command has no response")
	}
	return out, nil
}

// WriteTranscript writes exchanges in the format ReadTranscript reads. An
// exchange that ended in an error cannot be replayed and is refused.
func WriteTranscript(path string, exchanges []Exchange) error {
	var b bytes.Buffer
	b.WriteString("# Recorded by apdutest with -update from the virtual chip; specimen data only.\n")
	for i, e := range exchanges {
		if e.Err != nil {
			return fmt.Errorf("transcript: exchange %d failed: %v", i+1, e.Err)
		}
		fmt.Fprintf(&b, "> %x\n< %x\n", e.Cmd, e.Resp)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}
