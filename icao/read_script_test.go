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
	huge := file(1000)
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
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(dg1)}},
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
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, Extended: icao.SupportRefused},
		},
		{
			name: "EF.ATR/INFO absent: no SELECT after 6A82", f: icao.EFATRInfo,
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x6A, 0x82}}},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "EF.ATR/INFO is read to its end, not by its first TLV", f: icao.EFATRInfo,
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok([]byte{0x47, 0x01, 0x00, 0x7F, 0x66, 0x00})}},
			want:    []byte{0x47, 0x01, 0x00, 0x7F, 0x66, 0x00},
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "EF.CardAccess 6A82 by SFI: absent, no SELECT", f: icao.EFCardAccess,
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x9C, 0x00, 0x80}, Resp: []byte{0x6A, 0x82}}},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "EF.CardSecurity 6A82 by SFI on a chip not known to take SFIs: SELECT settles it", f: icao.EFCardSecurity,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x9D, 0x00, 0x80}, Resp: []byte{0x6A, 0x82}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1D}, Resp: []byte{0x6A, 0x82}},
			},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "EF.CardAccess refused by SFI (6A86): SELECT settles it", f: icao.EFCardAccess,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x9C, 0x00, 0x80}, Resp: []byte{0x6A, 0x86}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1C}, Resp: []byte{0x6A, 0x82}},
			},
			wantErr: icao.ErrNotFound,
		},
		{
			name: "DG1 6A82 by SFI: a file that must be there is looked for by FID", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x6A, 0x82}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01}, Resp: []byte{0x90, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x00, 0x80}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportRefused},
		},
		{
			name: "DG1 6A82 on a chip that served an SFI: absent", f: icao.EFDG1, cfg: icao.ReadConfig{Learned: icao.Learned{SFI: icao.SupportWorks}},
			steps:   []apdutest.Exchange{{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x6A, 0x82}}},
			wantErr: icao.ErrNotFound,
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "SFI refused: SELECT and read", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x6A, 0x86}},
				{Cmd: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x01}, Resp: []byte{0x90, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x00, 0x80}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportRefused},
		},
		{
			name: "climbs one rung at a time where the file has the bytes", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(huge[:128])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0xA0}, Resp: ok(huge[128:288])},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0x20, 0xC0}, Resp: ok(huge[288:480])},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0xE0, 0xDF}, Resp: ok(huge[480:703])},
				{Cmd: []byte{0x00, 0xB0, 0x02, 0xBF, 0x00}, Resp: ok(huge[703:959])},
				{Cmd: []byte{0x00, 0xB0, 0x03, 0xBF, 0x29}, Resp: ok(huge[959:])},
			},
			want:    huge,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 256},
		},
		{
			name: "the last bytes of a file are asked for whole: a probe too", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(big[:128])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0xA0}, Resp: ok(big[128:288])},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0x20, 0x0C}, Resp: ok(big[288:])},
			},
			want:    big,
			learned: icao.Learned{SFI: icao.SupportWorks},
		},
		{
			name: "a refused probe settles on the Le before it", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(big[:128])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0xA0}, Resp: []byte{0x67, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0x80}, Resp: ok(big[128:256])},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0x00, 0x2C}, Resp: ok(big[256:])},
			},
			want:    big,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 128},
		},
		{
			name: "a probe cut short is the chip's limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(big[:128])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0xA0}, Resp: append(bytes.Clone(big[128:278]), 0x62, 0x82)},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0x16, 0x16}, Resp: ok(big[278:])},
			},
			want:    big,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 150},
		},
		{
			name: "6Cxx to a probe is the chip's limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: ok(big[:128])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0xA0}, Resp: []byte{0x6C, 0x90}},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x80, 0x90}, Resp: ok(big[128:272])},
				{Cmd: []byte{0x00, 0xB0, 0x01, 0x10, 0x1C}, Resp: ok(big[272:])},
			},
			want:    big,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 144},
		},
		{
			name: "6Cxx below what a short file holds is the chip's limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x6C, 0x40}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x40}, Resp: ok(dg1[:64])},
				{Cmd: []byte{0x00, 0xB0, 0x00, 0x40, 0x1D}, Resp: ok(dg1[64:])},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 64},
		},
		{
			name: "6Cxx naming what a short file holds is no limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x6C, 0x5D}},
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
			name: "6700 to the first read: one rung down, and that is the limit", f: icao.EFDG1,
			steps: []apdutest.Exchange{
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x80}, Resp: []byte{0x67, 0x00}},
				{Cmd: []byte{0x00, 0xB0, 0x81, 0x00, 0x60}, Resp: ok(dg1)},
			},
			want:    dg1,
			learned: icao.Learned{SFI: icao.SupportWorks, MaxLe: 96},
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
