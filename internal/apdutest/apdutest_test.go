package apdutest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// tb records failures instead of failing, and runs cleanups on demand.
type tb struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (f *tb) Helper()                        {}
func (f *tb) Errorf(format string, a ...any) { f.errs = append(f.errs, fmt.Sprintf(format, a...)) }
func (f *tb) Cleanup(fn func())              { f.cleanups = append(f.cleanups, fn) }
func (f *tb) end() {
	for _, fn := range f.cleanups {
		fn()
	}
}

func TestScript(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	tests := []struct {
		name    string
		steps   []Exchange
		send    [][]byte
		wantErr string // substring of the recorded failure; "" for none
	}{
		{name: "all used", steps: []Exchange{{Cmd: []byte{1}, Resp: []byte{0x90, 0}}, {Resp: []byte{0x6A, 0x82}}}, send: [][]byte{{1}, {7}}},
		{name: "wrong command", steps: []Exchange{{Name: "SELECT", Cmd: []byte{1}, Resp: []byte{0x90, 0}}}, send: [][]byte{{2}}, wantErr: "SELECT"},
		{name: "extra command", steps: nil, send: [][]byte{{1}}, wantErr: "after the last exchange"},
		{name: "left over", steps: []Exchange{{Resp: []byte{0x90, 0}}, {Resp: []byte{0x90, 0}}}, send: [][]byte{{1}}, wantErr: "1 of 2 exchanges left over"},
		{name: "error answer", steps: []Exchange{{Err: boom}}, send: [][]byte{{1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := &tb{TB: t}
			s := NewScript(f, tc.steps...)
			for _, c := range tc.send {
				resp, err := s.Transmit(ctx, c)
				if err == nil && resp == nil {
					t.Fatal("nil response without error")
				}
			}
			f.end()
			got := strings.Join(f.errs, "\n")
			if tc.wantErr == "" && got != "" || tc.wantErr != "" && !strings.Contains(got, tc.wantErr) {
				t.Fatalf("failures %q, want %q", got, tc.wantErr)
			}
		})
	}
}

func TestTranscriptRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.apdu")
	ex := []Exchange{{Cmd: []byte{0, 0xA4, 2, 0x0C, 2, 1, 0x1E}, Resp: []byte{0x90, 0}}, {Cmd: []byte{0, 0xB0, 0, 0, 0}, Resp: []byte{0x60, 0x90, 0}}}
	if err := WriteTranscript(path, ex); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTranscript(path)
	if err != nil || len(got) != 2 || !bytes.Equal(got[1].Resp, ex[1].Resp) || !bytes.Equal(got[0].Cmd, ex[0].Cmd) {
		t.Fatalf("ReadTranscript = %v, %v", got, err)
	}
	if err := WriteTranscript(path, []Exchange{{Cmd: []byte{1}, Err: errors.New("x")}}); err == nil {
		t.Fatal("a failed exchange was written")
	}
}

func FuzzParseTranscript(f *testing.F) {
	f.Add([]byte("# c\n> 00a4020c02011e\n< 9000\n"))
	f.Add([]byte("< 9000\n"))
	f.Add([]byte("> 00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ex, err := ParseTranscript(b)
		if err != nil {
			if ex != nil {
				t.Fatal("result with error")
			}
			return
		}
		path := filepath.Join(t.TempDir(), "x.apdu")
		if err := WriteTranscript(path, ex); err != nil {
			t.Fatal(err)
		}
		again, err := ReadTranscript(path)
		if err != nil || len(again) != len(ex) {
			t.Fatalf("round trip: %v, %d vs %d", err, len(again), len(ex))
		}
		for i := range ex {
			if !bytes.Equal(ex[i].Cmd, again[i].Cmd) || !bytes.Equal(ex[i].Resp, again[i].Resp) {
				t.Fatalf("exchange %d differs", i)
			}
		}
	})
}
