package vchip_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// Fuzz modes: the first input byte picks the chip state the APDU meets.
const (
	fuzzFresh   = iota // powered up, MF selected
	fuzzApp            // eMRTD application selected
	fuzzSession        // BAC done: the APDU goes through sm.Session if it parses
	fuzzRaw            // BAC done: the raw bytes go to the chip
	fuzzPACE           // MSE:Set AT and the first GENERAL AUTHENTICATE done
	fuzzModes
)

// FuzzTransmit sends arbitrary APDUs to the chip in its various states:
// it must never panic and always answer with at least a status word whose
// SW1 is 61–6F or 90, whatever the bytes.
func FuzzTransmit(f *testing.F) {
	seeds := []icao.Command{
		selectApp(),
		{INS: icao.InsSelect, P1: 0x04, P2: 0x00, Data: aid, Ne: 256},
		{INS: icao.InsSelect, P2: 0x0C, Data: []byte{0x3F, 0x00}},
		selectEF(0x011E), selectEF(0x0102), selectEF(0x011C),
		readAt(0, 4), readAt(4, 256), readAt(0x7FFF, 65536),
		readSFI(0x01, 0, 256), readSFI(0x02, 0xFF, 1000),
		readOdd(0, 0x8000, 231), readOdd(0x0102, 5, 256), readOdd(0x001E, 0, 2),
		{INS: icao.InsGetChallenge, Ne: 8},
		{INS: icao.InsExternalAuthenticate, Data: make([]byte, 40), Ne: 40},
		mseSetAT(0), mseSetAT(256), gaNonce(),
		{CLA: 0x10, INS: icao.InsGeneralAuthenticate, Data: append([]byte{0x7C, 0x43, 0x81, 0x41, 0x04}, make([]byte, 64)...), Ne: 256},
		{INS: icao.InsGeneralAuthenticate, Data: []byte{0x7C, 0x0A, 0x85, 0x08, 1, 2, 3, 4, 5, 6, 7, 8}, Ne: 256},
	}
	for _, cmd := range seeds {
		raw, err := cmd.Marshal()
		require.NoError(f, err)
		for mode := range byte(fuzzModes) {
			f.Add(append([]byte{mode}, raw...))
		}
	}
	f.Add([]byte{fuzzRaw, 0x0C, 0xB0, 0x00, 0x00, 0x0D, 0x97, 0x01, 0x04, 0x8E, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00})
	f.Add([]byte{fuzzFresh, 0x00, 0xB1, 0x00, 0x00, 0x00, 0x00, 0x04, 0x54, 0x02, 0x80, 0x00, 0x00, 0x00})
	ds := loadSpecimen(f, "specimen-pace-gm-bp256") // BAC and PACE
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		mode, capdu := in[0]%fuzzModes, in[1:]
		p := newPassport(t, ds, &vchip.Config{Rand: fuzzRand{}})
		var tr icao.Transport = p
		switch mode {
		case fuzzFresh:
		case fuzzPACE:
			wantSW(t, p, mseSetAT(0), icao.StatusOK)
			wantSW(t, p, gaNonce(), icao.StatusOK)
		default:
			wantSW(t, p, selectApp(), icao.StatusOK)
		}
		if mode == fuzzSession || mode == fuzzRaw {
			s := openBAC(t, p)
			if _, err := icao.ParseCommand(capdu); err == nil && mode == fuzzSession && capdu[0]&0x0C == 0 {
				tr = s
			}
		}
		out, err := tr.Transmit(context.Background(), capdu)
		if tr != icao.Transport(p) && err != nil {
			// The session may refuse a command it cannot protect, or end
			// itself when the chip drops SM; neither is the chip's doing.
			return
		}
		require.NoError(t, err, "Transmit(% X)", capdu)
		require.GreaterOrEqual(t, len(out), 2, "Transmit(% X) answered % X", capdu, out)
		sw1 := out[len(out)-2]
		require.True(t, (sw1 >= 0x61 && sw1 <= 0x6F) || sw1 == 0x90, "Transmit(% X) answered SW1 %02X", capdu, sw1)
	})
}

// fuzzRand is a cheap deterministic random source, so that fuzzing spends
// its time on the chip rather than on crypto/rand.
type fuzzRand struct{}

func (fuzzRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return len(b), nil
}
