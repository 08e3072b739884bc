package apdutest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
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
				if err == nil {
					require.NotNil(t, resp, "nil response without error")
				}
			}
			f.end()
			got := strings.Join(f.errs, "\n")
			if tc.wantErr == "" {
				require.Empty(t, got, "failures")
			} else {
				require.Contains(t, got, tc.wantErr, "failures")
			}
		})
	}
}

func TestTranscriptRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.apdu")
	ex := []Exchange{{Cmd: []byte{0, 0xA4, 2, 0x0C, 2, 1, 0x1E}, Resp: []byte{0x90, 0}}, {Cmd: []byte{0, 0xB0, 0, 0, 0}, Resp: []byte{0x60, 0x90, 0}}}
	require.NoError(t, WriteTranscript(path, ex))
	got, err := ReadTranscript(path)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, ex[1].Resp, got[1].Resp)
	require.Equal(t, ex[0].Cmd, got[0].Cmd)
	require.Error(t, WriteTranscript(path, []Exchange{{Cmd: []byte{1}, Err: errors.New("x")}}), "a failed exchange was written")
}

func FuzzParseTranscript(f *testing.F) {
	f.Add([]byte("# c\n> 00a4020c02011e\n< 9000\n"))
	f.Add([]byte("< 9000\n"))
	f.Add([]byte("> 00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ex, err := ParseTranscript(b)
		if err != nil {
			require.Nil(t, ex, "result with error")
			return
		}
		path := filepath.Join(t.TempDir(), "x.apdu")
		require.NoError(t, WriteTranscript(path, ex))
		again, err := ReadTranscript(path)
		require.NoError(t, err, "round trip")
		require.Len(t, again, len(ex), "round trip")
		for i := range ex {
			require.Equal(t, ex[i].Cmd, again[i].Cmd, "exchange %d", i)
			require.Equal(t, ex[i].Resp, again[i].Resp, "exchange %d", i)
		}
	})
}
