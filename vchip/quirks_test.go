package vchip_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// TestQuirks makes each Config switch observable: the command it concerns,
// sent with the switch on, and the status word the field reports.
func TestQuirks(t *testing.T) {
	tests := []struct {
		name      string
		cfg       vchip.Config
		secured   bool // send through a BAC session, with EF.COM selected
		cmd       icao.Command
		want      icao.StatusWord
		wantLen   int  // data bytes, when the answer carries data
		protected bool // the answer carries SM objects (secured only)
	}{
		{name: "well-behaved extended read", secured: true, cmd: readSFI(0x02, 0, 1000),
			want: icao.StatusOK, wantLen: 1000, protected: true},
		{name: "no extended length", cfg: vchip.Config{NoExtendedLength: true}, secured: true, cmd: readSFI(0x02, 0, 1000),
			want: icao.StatusWrongLength},
		{name: "no extended length, plain", cfg: vchip.Config{NoExtendedLength: true},
			cmd:  icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid, Ne: 65536},
			want: icao.StatusWrongLength},
		{name: "no extended length, short Le 256", cfg: vchip.Config{NoExtendedLength: true}, secured: true, cmd: readSFI(0x02, 0, 231),
			want: icao.StatusOK, wantLen: 231, protected: true},
		{name: "max Le", cfg: vchip.Config{MaxLe: 192}, secured: true, cmd: readSFI(0x02, 0, 192),
			want: icao.StatusOK, wantLen: 192, protected: true},
		{name: "max Le exceeded", cfg: vchip.Config{MaxLe: 192}, secured: true, cmd: readSFI(0x02, 0, 193),
			want: icao.StatusWrongLength, protected: true},
		{name: "max Le exceeded 6Cxx", cfg: vchip.Config{MaxLe: 192, OverLe: vchip.LeExact}, secured: true, cmd: readSFI(0x02, 0, 200),
			want: 0x6CC0, protected: true},
		{name: "max Le exceeded 6Cxx near EOF", cfg: vchip.Config{MaxLe: 192, OverLe: vchip.LeExact}, secured: true, cmd: readSFI(0x1E, 2, 200),
			want: 0x6C14, protected: true},
		{name: "max Le exceeded 6Cxx odd", cfg: vchip.Config{MaxLe: 192, OverLe: vchip.LeExact}, secured: true, cmd: readOdd(0x0002, 0, 200),
			want: 0x6CC0, protected: true},
		{name: "max Le exceeded 6B00", cfg: vchip.Config{MaxLe: 160, OverLe: vchip.LeWrongOffset}, secured: true, cmd: readSFI(0x02, 0, 231),
			want: icao.StatusWrongP1P2, protected: true},
		{name: "max Le exceeded truncate", cfg: vchip.Config{MaxLe: 160, OverLe: vchip.LeTruncate}, secured: true, cmd: readSFI(0x02, 0, 231),
			want: icao.StatusEndOfFile, wantLen: 160, protected: true},
		{name: "max Le exceeded truncate odd", cfg: vchip.Config{MaxLe: 160, OverLe: vchip.LeTruncate}, secured: true, cmd: readOdd(0x0002, 0, 231),
			want: icao.StatusEndOfFile, wantLen: 157, protected: true}, // Ne 160 includes 53 81 9D
		{name: "no extended READ BINARY", cfg: vchip.Config{NoExtendedReadBinary: true}, secured: true, cmd: readSFI(0x02, 0, 1000),
			want: icao.StatusWrongLength},
		{name: "no extended READ BINARY, odd", cfg: vchip.Config{NoExtendedReadBinary: true}, secured: true, cmd: readOdd(0x0002, 0, 1000),
			want: icao.StatusWrongLength},
		{name: "no extended READ BINARY, short read", cfg: vchip.Config{NoExtendedReadBinary: true}, secured: true, cmd: readSFI(0x02, 0, 231),
			want: icao.StatusOK, wantLen: 231, protected: true},
		// 999 plain bytes: DO'87' 82 03 E9 01 + 1000 = 1005, DO'99' 4,
		// DO'8E' 10, SW 2: 1021 bytes of the 1024 stated.
		{name: "stated response buffer", cfg: vchip.Config{ATRInfo: icao.BufferSizes{Command: 1024, Response: 1024}}, secured: true, cmd: readSFI(0x02, 0, 999),
			want: icao.StatusOK, wantLen: 999, protected: true},
		{name: "stated response buffer exceeded", cfg: vchip.Config{ATRInfo: icao.BufferSizes{Command: 1024, Response: 1024}}, secured: true, cmd: readSFI(0x02, 0, 1000),
			want: icao.StatusWrongLength, protected: true},
		{name: "stated command buffer exceeded", cfg: vchip.Config{ATRInfo: icao.BufferSizes{Command: 10, Response: 1024}},
			cmd: selectApp(), want: icao.StatusWrongLength},
		{name: "EF.ATR/INFO", cfg: vchip.Config{ATRInfo: icao.BufferSizes{Command: 1024, Response: 1024}}, cmd: readSFI(0x01, 0, 256),
			want: icao.StatusOK, wantLen: 16},
		{name: "no EF.ATR/INFO", cmd: readSFI(0x01, 0, 256), want: icao.StatusFileNotFound},
		{name: "no short EF", cfg: vchip.Config{NoShortEF: true}, secured: true, cmd: readSFI(0x02, 0, 8),
			want: icao.StatusIncorrectP1P2, protected: true},
		{name: "no short EF 6B00", cfg: vchip.Config{NoShortEF: true, NoShortEFStatus: icao.StatusWrongP1P2}, secured: true, cmd: readSFI(0x02, 0, 8),
			want: icao.StatusWrongP1P2, protected: true},
		{name: "no short EF odd", cfg: vchip.Config{NoShortEF: true}, secured: true, cmd: readOdd(0x0002, 0, 8),
			want: icao.StatusIncorrectP1P2, protected: true},
		{name: "no short EF, by FID", cfg: vchip.Config{NoShortEF: true}, secured: true, cmd: readAt(0, 8),
			want: icao.StatusOK, wantLen: 8, protected: true},
		{name: "EOF 9000", secured: true, cmd: readAt(10, 100),
			want: icao.StatusOK, wantLen: 12, protected: true},
		{name: "EOF 6282", cfg: vchip.Config{EOFStatus: icao.StatusEndOfFile}, secured: true, cmd: readAt(10, 100),
			want: icao.StatusEndOfFile, wantLen: 12, protected: true},
		{name: "select MF refused", cfg: vchip.Config{SelectMFStatus: icao.StatusIncorrectP1P2},
			cmd: icao.Command{INS: icao.InsSelect, P2: 0x0C, Data: []byte{0x3F, 0x00}}, want: icao.StatusIncorrectP1P2},
		{name: "select MF implicit refused", cfg: vchip.Config{SelectMFStatus: icao.StatusFuncNotSupported},
			cmd: icao.Command{INS: icao.InsSelect, P2: 0x0C}, want: icao.StatusFuncNotSupported},
		{name: "select with Le refused", cfg: vchip.Config{RejectSelectLe: true},
			cmd: icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid, Ne: 256}, want: icao.StatusWrongLength},
		{name: "select without Le with RejectSelectLe", cfg: vchip.Config{RejectSelectLe: true},
			cmd: selectApp(), want: icao.StatusOK},
		{name: "PACE only", cfg: vchip.Config{NoBAC: true},
			cmd: icao.Command{INS: icao.InsGetChallenge, Ne: 8}, want: icao.StatusRefDataNotFound},
		{name: "PACE only 6985", cfg: vchip.Config{NoBAC: true, NoBACStatus: icao.StatusConditionsNotMet},
			cmd: icao.Command{INS: icao.InsGetChallenge, Ne: 8}, want: icao.StatusConditionsNotMet},
		{name: "PACE only, external authenticate", cfg: vchip.Config{NoBAC: true},
			cmd: icao.Command{INS: icao.InsExternalAuthenticate, Data: make([]byte, 40), Ne: 40}, want: icao.StatusRefDataNotFound},
	}
	ds := loadSpecimen(t, "specimen-20k")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var tr icao.Transport
			var rec *recorder
			if tc.secured {
				var s icao.Transport
				_, rec, s = sessionWith(t, ds, tc.cfg)
				wantSW(t, s, selectEF(0x011E), icao.StatusOK)
				tr = s
			} else {
				rec = &recorder{t: newPassport(t, ds, &tc.cfg)}
				tr = rec
			}
			resp := wantSW(t, tr, tc.cmd, tc.want)
			assert.Equal(t, tc.wantLen, dataLen(t, tc.cmd, resp), "data bytes")
			if tc.secured {
				assert.Equal(t, tc.protected, rec.protected(), "answer protected")
				// Whatever the refusal, the session survives.
				wantSW(t, tr, selectEF(0x011E), icao.StatusOK)
				wantSW(t, tr, readAt(0, 4), icao.StatusOK)
			}
		})
	}
}

func sessionWith(t *testing.T, ds *vchip.Dataset, cfg vchip.Config) (*vchip.Passport, *recorder, icao.Transport) {
	p, rec, s := session(t, ds, &cfg)
	return p, rec, s
}

// dataLen is the number of file bytes in resp: the DO'53' value for B1.
func dataLen(t *testing.T, cmd icao.Command, resp icao.Response) int {
	if cmd.INS != icao.InsReadBinaryOdd || len(resp.Data) == 0 {
		return len(resp.Data)
	}
	require.GreaterOrEqual(t, len(resp.Data), 3, "odd-INS answer length")
	return len(resp.Data) - 3 // 53 81 xx
}

func TestRemoveAfter(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	p := newPassport(t, ds, &vchip.Config{RemoveAfter: 3})
	removed := p.Removed()
	for i := range 3 {
		select {
		case <-removed:
			require.FailNowf(t, "card removed early", "removed after %d APDUs", i)
		default:
		}
		wantSW(t, p, selectApp(), icao.StatusOK)
	}
	<-removed
	raw, _ := selectApp().Marshal()
	_, err := p.Transmit(context.Background(), raw)
	require.ErrorIs(t, err, vchip.ErrRemoved, "APDU 4")
	assert.Equal(t, int64(3), p.Stats().APDUs, "APDUs counted")
	p.Reset() // a power cycle does not bring the card back
	_, err = p.Transmit(context.Background(), raw)
	require.ErrorIs(t, err, vchip.ErrRemoved, "after Reset")

	p.Reinsert()
	select {
	case <-p.Removed():
		require.FailNow(t, "reinserted card reports removed")
	default:
	}
	s := openBAC(t, p) // well past RemoveAfter: disarmed
	wantSW(t, s, selectApp(), icao.StatusOK)
	wantSW(t, s, readSFI(0x1E, 0, 256), icao.StatusOK)

	q := newPassport(t, ds, nil)
	q.Remove()
	_, err = q.Transmit(context.Background(), raw)
	require.ErrorIs(t, err, vchip.ErrRemoved, "after Remove")
}

func TestLatency(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	raw, _ := selectApp().Marshal()

	p := newPassport(t, ds, &vchip.Config{Latency: 30 * time.Millisecond})
	start := time.Now()
	_, err := p.Transmit(context.Background(), raw)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond, "APDU time")

	slow := newPassport(t, ds, &vchip.Config{Latency: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = slow.Transmit(ctx, raw)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.LessOrEqual(t, time.Since(start), 5*time.Second, "cancelled APDU time")
	assert.Zero(t, slow.Stats().APDUs, "cancelled APDU was counted")

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = newPassport(t, ds, nil).Transmit(done, raw)
	assert.ErrorIs(t, err, context.Canceled, "Transmit with a done context")
}

func TestStats(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	p := newPassport(t, ds, nil)
	var in, out int64
	for _, cmd := range []icao.Command{selectApp(), {INS: icao.InsGetChallenge, Ne: 8}, selectEF(0x011E)} {
		raw, _ := cmd.Marshal()
		resp, err := p.Transmit(context.Background(), raw)
		require.NoError(t, err)
		in += int64(len(raw))
		out += int64(len(resp))
	}
	assert.Equal(t, vchip.Stats{APDUs: 3, BytesIn: in, BytesOut: out}, p.Stats())
}

// TestConcurrent hammers one chip from several goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	p := newPassport(t, ds, nil)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			cmds := []icao.Command{selectApp(), {INS: icao.InsGetChallenge, Ne: 8}, readSFI(byte(g%2+1), 0, 8)}
			for i := range 50 {
				raw, _ := cmds[i%len(cmds)].Marshal()
				resp, err := p.Transmit(context.Background(), raw)
				// assert, not require: this is not the test's goroutine.
				if !assert.NoError(t, err, "Transmit") || !assert.GreaterOrEqual(t, len(resp), 2, "Transmit = % X", resp) {
					return
				}
				if i%17 == 0 {
					p.Reset()
				}
				_ = p.Stats()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(8*50), p.Stats().APDUs, "APDUs counted")
}

func TestATR(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	assert.Nil(t, newPassport(t, ds, nil).ATR(), "default ATR, want nil (vpcd's default)")
	want := []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	cfg := &vchip.Config{ATR: want}
	p := newPassport(t, ds, cfg)
	cfg.ATR[4] = 0xFF // the chip keeps its own copy
	assert.Equal(t, []byte{0x3B, 0x80, 0x80, 0x01, 0x01}, p.ATR(), "ATR")
}

// TestATRInfo reads EF.ATR/INFO as a terminal does, before the
// application is selected: by SFI and by FID, in plain, with the sizes
// the configuration states.
func TestATRInfo(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	want := icao.BufferSizes{Command: 1200, Response: 65535}
	p := newPassport(t, ds, &vchip.Config{ATRInfo: want})
	for _, cmds := range [][]icao.Command{
		{readSFI(0x01, 0, 256)},
		{selectEF(0x2F01), readAt(0, 256)},
	} {
		var resp icao.Response
		for _, c := range cmds {
			resp = wantSW(t, p, c, icao.StatusOK)
		}
		c, err := icao.ParseATRInfo(resp.Data)
		if assert.NoError(t, err, "EF.ATR/INFO % X", resp.Data) {
			assert.Equal(t, want, c.Buffers, "EF.ATR/INFO % X", resp.Data)
			assert.True(t, c.ExtendedLength(), "EF.ATR/INFO % X: %+v", resp.Data, c)
			assert.True(t, c.LengthInfo(), "EF.ATR/INFO % X: %+v", resp.Data, c)
		}
	}
	// EF.ATR/INFO lives in the MF: the application has no file 2F01.
	wantSW(t, p, selectApp(), icao.StatusOK)
	wantSW(t, p, selectEF(0x2F01), icao.StatusFileNotFound)
}
