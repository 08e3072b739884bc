package icao_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

func TestParseATR(t *testing.T) {
	tests := []struct {
		name      string
		atr       string
		hist      string
		extended  bool
		info      bool
		sfi       bool
		wantError bool
	}{
		// The reader-built ATR of a Type B card: historical bytes from
		// ATQB, in no ISO/IEC 7816-4 format.
		{name: "type B", atr: "3b8880010000000077818100" + "7e", hist: "0000000077818100"},
		// Type A with COMPACT-TLV historical bytes: card capabilities
		// 73 with b7 and b6 of the third table set, status indicator.
		{name: "type A compact-TLV", atr: "3b88800180" + "73c00160" + "829000" + "00", hist: "8073c00160829000", extended: true, info: true},
		// First table F4: selection by DF name, partial name, path, FID
		// and short EF identifiers (b3).
		{name: "short EF identifiers", atr: "3b88800180" + "73f40160" + "829000" + "00", hist: "8073f40160829000", extended: true, info: true, sfi: true},
		{name: "category 00 with status", atr: "3b8880010073c0014090000000", hist: "0073c00140900000", extended: true},
		{name: "no capabilities", atr: "3b83800180" + "1101" + "00", hist: "801101"},
		{name: "TA1 TB1 TC1 TD1 TD2", atr: "3bf81300008131fe45" + "8073c0014090000000" + "00", hist: "8073c00140900000", extended: true},
		{name: "no historical bytes", atr: "3b00", hist: ""},
		{name: "truncated", atr: "3b8880010000", wantError: true},
		{name: "not an ATR", atr: "0011", wantError: true},
		// Historical bytes that are no valid COMPACT-TLV state nothing.
		{name: "capabilities of 4 bytes", atr: "3b8680018074c0014000" + "00", hist: "8074c0014000"},
		{name: "object runs past the end", atr: "3b838001" + "8073c0" + "00", hist: "8073c0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			atr := mustHex(t, tc.atr)
			c, err := icao.ParseATR(atr)
			if tc.wantError {
				require.ErrorIs(t, err, icao.ErrCapabilities)
				return
			}
			require.NoError(t, err)
			hb, _ := icao.HistoricalBytes(atr)
			// bytes.Equal: no historical bytes may come back nil or empty.
			assert.True(t, bytes.Equal(hb, mustHex(t, tc.hist)), "historical bytes % X, want %s", hb, tc.hist)
			assert.Equal(t, icao.LengthATR, c.Source)
			assert.Equal(t, tc.extended, c.ExtendedLength(), "extended length; got %+v", c)
			assert.Equal(t, tc.info, c.LengthInfo(), "length info; got %+v", c)
			assert.False(t, c.Stated(), "got %+v", c)
			assert.Equal(t, tc.sfi, c.ShortEF(), "short EF identifiers")
		})
	}
}

func TestParseATRInfo(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		want      icao.BufferSizes
		tables    string
		wantError bool
	}{
		{name: "capabilities and sizes", file: "4703860160" + "7f6608" + "0202ffff" + "0202ffff", want: icao.BufferSizes{Command: 65535, Response: 65535}, tables: "860160"},
		{name: "sizes only, one-byte and three-byte integers", file: "7f6608" + "0201ff" + "0203010002", want: icao.BufferSizes{Command: 255, Response: 65538}},
		{name: "padding and other objects", file: "00ff" + "5f520380" + "0102" + "7f6608" + "02020400" + "02020400" + "0000", want: icao.BufferSizes{Command: 1024, Response: 1024}},
		{name: "no sizes", file: "4703860120", tables: "860120"},
		{name: "empty file", file: ""},
		{name: "size zero", file: "7f6606" + "020100" + "020100", wantError: true},
		{name: "response too large", file: "7f6608" + "0201ff" + "0203010003", wantError: true},
		{name: "one integer", file: "7f6604" + "0202ffff", wantError: true},
		{name: "wrong inner tag", file: "7f6608" + "0402ffff" + "0202ffff", wantError: true},
		{name: "truncated", file: "7f6608" + "0202ff", wantError: true},
		{name: "empty capabilities", file: "4700", wantError: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := icao.ParseATRInfo(mustHex(t, tc.file))
			if tc.wantError {
				require.ErrorIs(t, err, icao.ErrCapabilities)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, icao.LengthATRInfo, c.Source)
			assert.Equal(t, tc.want, c.Buffers)
			// bytes.Equal: no tables may come back nil or empty.
			assert.True(t, bytes.Equal(c.Tables, mustHex(t, tc.tables)), "tables %x, want %s", c.Tables, tc.tables)
			again, err := icao.ParseATRInfo(c.MarshalATRInfo())
			if assert.NoError(t, err, "round trip") {
				assert.Equal(t, c.Buffers, again.Buffers, "round trip")
				assert.True(t, bytes.Equal(again.Tables, c.Tables), "round trip: tables %x, want %x", again.Tables, c.Tables)
			}
		})
	}
}

func TestLengthSourceText(t *testing.T) {
	for _, s := range []icao.LengthSource{icao.LengthNone, icao.LengthATRInfo, icao.LengthATR, icao.LengthOverride, icao.LengthReader, icao.LengthLearned} {
		b, err := s.MarshalText()
		require.NoError(t, err)
		var back icao.LengthSource
		if assert.NoError(t, back.UnmarshalText(b), "%s", b) {
			assert.Equal(t, s, back, "%s: round trip", b)
		}
	}
	_, err := icao.LengthSource(200).MarshalText()
	assert.Error(t, err, "unknown source marshals")
	var s icao.LengthSource
	assert.Error(t, s.UnmarshalText([]byte("ATR-INFO")), "unknown name unmarshals")
}

// TestPlan is the length decision of 9303-11 §9.3.1.2, row by row.
func TestPlan(t *testing.T) {
	stated := icao.Capabilities{Source: icao.LengthATRInfo, Buffers: icao.BufferSizes{Command: 1024, Response: 1024}}
	atrOnly := icao.Capabilities{Source: icao.LengthATR, Tables: []byte{0x86, 0x01, 0x60}}
	tests := []struct {
		name string
		cfg  icao.ReadConfig
		want icao.LengthPlan
	}{
		{name: "nothing stated", want: icao.LengthPlan{Source: icao.LengthNone}},
		{name: "ATR says extended Lc/Le but no sizes", cfg: icao.ReadConfig{Chip: atrOnly}, want: icao.LengthPlan{Source: icao.LengthNone}},
		{name: "EF.ATR/INFO sizes", cfg: icao.ReadConfig{Chip: stated}, want: icao.LengthPlan{Source: icao.LengthATRInfo, Response: 1024}},
		{name: "response size without a command size", cfg: icao.ReadConfig{Chip: icao.Capabilities{Source: icao.LengthATRInfo, Buffers: icao.BufferSizes{Response: 1024}}}, want: icao.LengthPlan{Source: icao.LengthNone}},
		{name: "sizes no larger than a short response", cfg: icao.ReadConfig{Chip: icao.Capabilities{Source: icao.LengthATRInfo, Buffers: icao.BufferSizes{Command: 261, Response: 258}}}, want: icao.LengthPlan{Source: icao.LengthNone}},
		{name: "reader limit caps the response", cfg: icao.ReadConfig{Chip: stated, ReaderMaxAPDU: 600}, want: icao.LengthPlan{Source: icao.LengthATRInfo, Response: 600}},
		{name: "short-APDU reader", cfg: icao.ReadConfig{Chip: stated, ReaderMaxAPDU: 271}, want: icao.LengthPlan{Source: icao.LengthReader}},
		{name: "refused before", cfg: icao.ReadConfig{Chip: stated, Learned: icao.Learned{Extended: icao.SupportRefused}}, want: icao.LengthPlan{Source: icao.LengthLearned}},
		{name: "never", cfg: icao.ReadConfig{Chip: stated, Extended: icao.ExtendedNever}, want: icao.LengthPlan{Source: icao.LengthNone}},
		{name: "override without sizes", cfg: icao.ReadConfig{Extended: icao.ExtendedAlways}, want: icao.LengthPlan{Source: icao.LengthOverride, Le: 4096}},
		{name: "override with its own Le", cfg: icao.ReadConfig{Extended: icao.ExtendedAlways, ExtendedLe: 1000}, want: icao.LengthPlan{Source: icao.LengthOverride, Le: 1000}},
		{name: "override with sizes", cfg: icao.ReadConfig{Extended: icao.ExtendedAlways, Chip: stated}, want: icao.LengthPlan{Source: icao.LengthOverride, Response: 1024}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.cfg.Plan())
		})
	}
}

// FuzzParseATRInfo checks EF.ATR/INFO parsing: no panic, the zero value
// on error, and what parses marshals to a file that parses the same.
func FuzzParseATRInfo(f *testing.F) {
	for _, seed := range []string{"47038601607f66080202ffff0202ffff", "7f6608" + "0201ff" + "0203010002", "00ff5f5203800102", "7f66080202ff"} {
		b, _ := hex.DecodeString(seed)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := icao.ParseATRInfo(b)
		if err != nil {
			require.Equal(t, icao.LengthNone, c.Source, "error %v with a result", err)
			require.Nil(t, c.Tables, "error %v with a result", err)
			require.Zero(t, c.Buffers, "error %v with a result", err)
			return
		}
		again, err := icao.ParseATRInfo(c.MarshalATRInfo())
		require.NoError(t, err, "%x: %+v re-parsed", b, c)
		require.Equal(t, c.Buffers, again.Buffers, "%x re-parsed", b)
		require.True(t, bytes.Equal(again.Tables, c.Tables), "%x: tables %x, re-parsed %x", b, c.Tables, again.Tables)
	})
}

// FuzzParseATR checks ATR parsing: no panic, the zero value on error, and
// historical bytes that lie inside the ATR.
func FuzzParseATR(f *testing.F) {
	for _, seed := range []string{"3b888001000000007781810" + "07e", "3b8b80018073c001608103900000" + "00", "3bf81300008131fe458073c0014090000000" + "00", "3b00"} {
		b, _ := hex.DecodeString(seed)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, atr []byte) {
		c, err := icao.ParseATR(atr)
		if err != nil {
			require.Equal(t, icao.LengthNone, c.Source, "error %v with a result", err)
			require.Nil(t, c.Tables, "error %v with a result", err)
			return
		}
		hb, err := icao.HistoricalBytes(atr)
		require.NoError(t, err, "%x", atr)
		require.LessOrEqual(t, len(hb), len(atr)-2, "%x: historical bytes %x", atr, hb)
		require.LessOrEqual(t, len(c.Tables), 3, "%x: %+v", atr, c)
		require.False(t, c.Stated(), "%x: %+v", atr, c)
	})
}
