package icao_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

// recorder answers from a script and records the commands.
type recorder struct {
	answers [][]byte
	sent    [][]byte
}

func (r *recorder) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	r.sent = append(r.sent, append([]byte(nil), capdu...))
	if len(r.answers) == 0 {
		return []byte{0x61, 0x10}, nil // a chip that never stops
	}
	a := r.answers[0]
	r.answers = r.answers[1:]
	return a, nil
}

func TestCollect(t *testing.T) {
	tests := []struct {
		name    string
		capdu   []byte
		answers [][]byte
		want    []byte
		wantErr error
		wantGR  []byte // the first GET RESPONSE sent
	}{
		{name: "no 61xx", capdu: []byte{0, 0xB0, 0, 0, 2}, answers: [][]byte{{1, 2, 0x90, 0}}, want: []byte{1, 2, 0x90, 0}},
		{name: "two pieces", capdu: []byte{0, 0xB0, 0, 0, 0}, answers: [][]byte{{1, 2, 0x61, 0x02}, {3, 4, 0x90, 0}},
			want: []byte{1, 2, 3, 4, 0x90, 0}, wantGR: []byte{0, 0xC0, 0, 0, 2}},
		{name: "61 00 asks for 256", capdu: []byte{0, 0xB0, 0, 0, 0}, answers: [][]byte{{0x61, 0}, {0x90, 0}},
			want: []byte{0x90, 0}, wantGR: []byte{0, 0xC0, 0, 0, 0}},
		{name: "GET RESPONSE in plain after a protected command", capdu: []byte{0x0C, 0xB0, 0, 0, 0}, answers: [][]byte{{0x61, 1}, {9, 0x90, 0}},
			want: []byte{9, 0x90, 0}, wantGR: []byte{0, 0xC0, 0, 0, 1}},
		{name: "endless 61xx", capdu: []byte{0, 0xB0, 0, 0, 0}, wantErr: icao.ErrTooManyResponses},
		{name: "no status word after 61xx", capdu: []byte{0, 0xB0, 0, 0, 0}, answers: [][]byte{{1, 0x61, 1}, {2}}, wantErr: icao.ErrMalformedAPDU},
		{name: "no command", capdu: nil, answers: [][]byte{{0x61, 1}}, wantErr: icao.ErrMalformedAPDU},
		{name: "a header cut short", capdu: []byte{0, 0xB0}, answers: [][]byte{{0x61, 1}}, wantErr: icao.ErrMalformedAPDU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{answers: tc.answers}
			got, err := icao.Collect(context.Background(), r, tc.capdu)
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, tc.want, got)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			if tc.wantGR != nil && assert.GreaterOrEqual(t, len(r.sent), 2, "no GET RESPONSE sent: %x", r.sent) {
				assert.Equal(t, tc.wantGR, r.sent[1], "GET RESPONSE")
			}
		})
	}
}

func TestIsExtended(t *testing.T) {
	for _, c := range []icao.Command{
		{INS: 0xB0, Ne: 256}, {INS: 0xB0, Ne: 257}, {INS: 0x86, Data: make([]byte, 255), Ne: 256},
		{INS: 0x86, Data: make([]byte, 256)}, {INS: 0xA4, Data: []byte{1, 1}}, {INS: 0x84, Ne: 8}, {INS: 0x70},
	} {
		raw, err := c.Marshal()
		require.NoError(t, err)
		assert.Equal(t, c.Extended(), icao.IsExtended(raw), "%x: IsExtended disagrees with Extended", raw)
	}
	// A short-Le READ BINARY asking for 256 bytes (Le 00) is not extended.
	assert.False(t, icao.IsExtended([]byte{0, 0xB0, 0, 0, 0}), "Le 00 read as extended")
}
