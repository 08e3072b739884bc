package icao_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

// FuzzParseCommand checks that every command APDU parses without panic
// and that what parses marshals back to the same bytes, except for the
// encodings ISO/IEC 7816-4 lets a sender choose (an extended Le that fits
// a short one).
func FuzzParseCommand(f *testing.F) {
	for _, seed := range []string{"00a4020c02011e", "00b0000004", "0cb000000d9701048e08ed6705417e96ba5500", "00b100000004540280000000", "00b0000000000100", "0082000028" + "00"} {
		b, _ := hex.DecodeString(seed)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := icao.ParseCommand(b)
		if err != nil {
			return
		}
		out, err := c.Marshal()
		require.NoError(t, err, "parsed %x but cannot marshal", b)
		extendedForm := len(b) > 5 && b[4] == 0
		if !extendedForm {
			require.Equal(t, b, out, "round trip")
		}
		again, err := icao.ParseCommand(out)
		require.NoError(t, err, "re-parse of %x", out)
		require.Equal(t, c.INS, again.INS, "re-parse of %x", out)
		require.Equal(t, c.Ne, again.Ne, "re-parse of %x", out)
		// bytes.Equal: a command without data may parse to nil or empty.
		require.True(t, bytes.Equal(again.Data, c.Data), "re-parse of %x: data %x, want %x", out, again.Data, c.Data)
	})
}

// hostile answers READ BINARY with whatever the fuzzer gives, split into
// response APDUs by a length prefix.
type hostile struct{ rest []byte }

func (h *hostile) Transmit(context.Context, []byte) ([]byte, error) {
	if len(h.rest) == 0 {
		return nil, errors.New("hostile: card removed")
	}
	n := min(int(h.rest[0]), len(h.rest)-1)
	r := h.rest[1 : 1+n]
	h.rest = h.rest[1+n:]
	return r, nil
}

// FuzzFileReader lets a hostile chip answer every READ BINARY: the reader
// must never panic, never loop without bound, and never return more than
// the file's header declares.
func FuzzFileReader(f *testing.F) {
	f.Add([]byte("\x0a\x75\x82\x01\x00\x01\x02\x03\x04\x90\x00\x02\x67\x00\x02\x6c\x10"))
	f.Add([]byte("\x0a\x77\x80\x30\x80\x01\x02\x03\x04\x90\x00\x04\x00\x00\x90\x00"))
	f.Add([]byte("\x02\x6a\x82\x02\x6a\x82"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := icao.NewFileReader(&hostile{rest: b}, &icao.ReadConfig{MaxFileSize: 4096})
		data, err := r.Read(context.Background(), icao.EFDG2, nil)
		require.LessOrEqual(t, len(data), 4096+8, "bytes from a %d-byte script", len(b))
		if err == nil {
			require.NotEmpty(t, data, "no data and no error")
		}
		// EF.ATR/INFO is read to its end rather than by its first TLV.
		r = icao.NewFileReader(&hostile{rest: b}, &icao.ReadConfig{MaxFileSize: 4096})
		data, _ = r.Read(context.Background(), icao.EFATRInfo, nil)
		require.LessOrEqual(t, len(data), 4096+256, "bytes of EF.ATR/INFO from a %d-byte script", len(b))
	})
}
