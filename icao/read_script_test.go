package icao_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
)

// file returns a TLV file of n bytes: tag 61, its length, filler.
func file(n int) []byte {
	b := []byte{0x61, 0x82, byte((n - 4) >> 8), byte(n - 4)}
	for i := 4; i < n; i++ {
		b = append(b, byte(i))
	}
	return b
}

func ok(data []byte) []byte { return append(bytes.Clone(data), 0x90, 0x00) }

// TestFileReaderScripts pins the READ BINARY commands themselves, over a
// plain transport.
func TestFileReaderScripts(t *testing.T) {
	dg1 := file(93)
	big := file(300)
	stated := icao.Capabilities{Source: icao.LengthATRInfo, Buffers: icao.BufferSizes{Command: 1024, Response: 1024}}
	tests := []struct {
		name    string
		f       icao.EF
		cfg     icao.ReadConfig
		steps   []apdutest.Exchange
		want    []byte
		wantErr error
		learned icao.Learned
	}{
		{
			name: "short file whole in the first APDU", f: icao.EFDG1,
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: ok(dg1)}},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "stated sizes: extended Le filling the response buffer", f: icao.EFDG1, cfg: icao.ReadConfig{Chip: stated},
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00, 0x03, 0xFE}, Resp: ok(dg1)}},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, Extended: icao.SupportWorks},
		},
		{
			name: "stated sizes refused: short from then on", f: icao.EFDG1, cfg: icao.ReadConfig{Chip: stated},
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00, 0x03, 0xFE}, Resp: []byte{0x67, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, Extended: icao.SupportRefused},
		},
		{
			name: "EF.ATR/INFO absent: no SELECT after 6A82", f: icao.EFATRInfo,
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x6A, 0x82}}},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "EF.ATR/INFO is read to its end, not by its first TLV", f: icao.EFATRInfo,
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: ok([]byte{0x47, 0x01, 0x00, 0x7F, 0x66, 0x00})}},
			want:    []byte{0x47, 0x01, 0x00, 0x7F, 0x66, 0x00},
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "EF.CardAccess 6A82 by SFI: SELECT settles it", f: icao.EFCardAccess,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x9C, 0x00, 0x00}, Resp: []byte{0x6A, 0x82}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}, Resp: []byte{0x6A, 0x82}},
			},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "EF.CardAccess 6A82 on a chip that states short EF identifiers", f: icao.EFCardAccess,
			cfg:     icao.ReadConfig{Chip: icao.Capabilities{Source: icao.LengthATR, Tables: []byte{0xF4}}},
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x9C, 0x00, 0x00}, Resp: []byte{0x6A, 0x82}}},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "DG1 6A82 on a chip that states short EF identifiers: SELECT still tried", f: icao.EFDG1,
			cfg: icao.ReadConfig{Chip: icao.Capabilities{Source: icao.LengthATR, Tables: []byte{0xF4}}},
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x6A, 0x82}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01}, Resp: []byte{0x90, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportRefused},
		},
		{
			name: "EF.CardAccess 6A82 on a chip that served an SFI", f: icao.EFCardAccess, cfg: icao.ReadConfig{Learned: icao.Learned{SFI: icao.SupportWorks}},
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x9C, 0x00, 0x00}, Resp: []byte{0x6A, 0x82}}},
			wantErr: icao.ErrNotFound,
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "SFI refused: SELECT and read", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x6A, 0x86}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01}, Resp: []byte{0x90, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportRefused},
		},
		{
			name: "6Cxx below the file size is the chip's limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x6C, 0x80}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(big[:128])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0x80}, Resp: ok(big[128:256])},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0x00, 0x2C}, Resp: ok(big[256:])},
			},
			want:    big,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 128},
		},
		{
			name: "6Cxx above what a short file holds is the chip's limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x6C, 0x80}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 128},
		},
		{
			name: "6Cxx naming what a short file holds is no limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x6C, 0x5D}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x5D}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "learned Le: no probing", f: icao.EFDG1, cfg: icao.ReadConfig{Learned: icao.Learned{MaxLe: 160, SFI: icao.SupportRefused}},
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01}, Resp: []byte{0x90, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x00, 0xA0}, Resp: ok(big[:160])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0xA0, 0x8C}, Resp: ok(big[160:])},
			},
			want:    big,
			learned: icao.Learned{SFI: icao.SupportRefused, MaxLe: 160},
		},
		{
			name: "Le ladder on 6700", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, Resp: []byte{0x67, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0xDF}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 223},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := icao.NewFileReader(apdutest.NewScript(t, tc.steps...), &tc.cfg)
			got, err := r.Read(context.Background(), tc.f, nil)
			if tc.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.wantErr)
			}
			// bytes.Equal: a failed read may return nil or empty data.
			assert.True(t, bytes.Equal(got, tc.want), "got % X, want % X", got, tc.want)
			assert.Equal(t, tc.learned, r.Learned(), "learned")
		})
	}
}
