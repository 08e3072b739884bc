package vchip_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// loaded caches the committed datasets: loading is cheap, but tests
// should not depend on each other's copies.
var loaded sync.Map // dir → *vchip.Dataset

// loadSpecimen loads a committed specimen dataset (see
// TestSpecimenTestdata).
func loadSpecimen(t testing.TB, name string) *vchip.Dataset {
	t.Helper()
	if ds, ok := loaded.Load(name); ok {
		return ds.(*vchip.Dataset)
	}
	ds, err := vchip.LoadDir(specimenDir(name))
	require.NoError(t, err, "load %s (regenerate with go test ./vchip -run TestSpecimenTestdata -update)", name)
	loaded.Store(name, ds)
	return ds
}

func newPassport(t testing.TB, ds *vchip.Dataset, cfg *vchip.Config) *vchip.Passport {
	t.Helper()
	if cfg == nil {
		cfg = &vchip.Config{}
	}
	p, err := vchip.New(ds, cfg)
	require.NoError(t, err)
	return p
}

// recorder is a transport that remembers the last raw response, so that
// tests can tell a protected answer from an unprotected one, and can
// corrupt the next command.
type recorder struct {
	t       icao.Transport
	last    []byte
	corrupt bool // flip a bit in the last byte before Le of the next command
}

func (r *recorder) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if r.corrupt {
		capdu = append([]byte(nil), capdu...)
		capdu[len(capdu)-2] ^= 0x01 // inside DO'8E' of a protected command with Le
		r.corrupt = false
	}
	out, err := r.t.Transmit(ctx, capdu)
	r.last = out
	return out, err
}

// protected reports whether the last response carried SM data objects.
func (r *recorder) protected() bool { return len(r.last) > 2 }

// exchange sends cmd and returns the response, whatever its status word;
// it fails the test on any other error.
func exchange(t testing.TB, tr icao.Transport, cmd icao.Command) icao.Response {
	t.Helper()
	resp, err := icao.Exchange(context.Background(), tr, cmd)
	if _, ok := errors.AsType[icao.StatusWord](err); !ok {
		require.NoError(t, err, "exchange %02X %02X %02X %02X", cmd.CLA, cmd.INS, cmd.P1, cmd.P2)
	}
	return resp
}

// wantSW sends cmd and checks the status word.
func wantSW(t testing.TB, tr icao.Transport, cmd icao.Command, want icao.StatusWord) icao.Response {
	t.Helper()
	resp := exchange(t, tr, cmd)
	require.Equal(t, want, resp.SW, "status of %02X %02X %02X %02X", cmd.CLA, cmd.INS, cmd.P1, cmd.P2)
	return resp
}

// openBAC runs BAC with the specimen key over tr.
func openBAC(t testing.TB, tr icao.Transport) *sm.Session {
	t.Helper()
	s, err := bac.Open(context.Background(), tr, specimenKey(t), nil)
	require.NoError(t, err, "BAC")
	return s
}

// Commands used throughout the tests.
var aid = []byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01}

func selectApp() icao.Command {
	return icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}
}

func selectEF(fid uint16) icao.Command {
	return icao.Command{INS: icao.InsSelect, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}}
}

func readAt(off, ne int) icao.Command {
	return icao.Command{INS: icao.InsReadBinary, P1: byte(off >> 8), P2: byte(off), Ne: ne}
}

func readSFI(sfi byte, off, ne int) icao.Command {
	return icao.Command{INS: icao.InsReadBinary, P1: 0x80 | sfi, P2: byte(off), Ne: ne}
}

// readOdd is READ BINARY B1 of the file p1p2 (0 = current EF) at off.
func readOdd(p1p2 uint16, off, ne int) icao.Command {
	o := []byte{byte(off >> 16), byte(off >> 8), byte(off)}
	switch {
	case off <= 0xFF:
		o = o[2:]
	case off <= 0xFFFF:
		o = o[1:]
	}
	data := append([]byte{0x54, byte(len(o))}, o...)
	return icao.Command{INS: icao.InsReadBinaryOdd, P1: byte(p1p2 >> 8), P2: byte(p1p2), Data: data, Ne: ne}
}

// session is a passport with BAC done and the application selected.
func session(t testing.TB, ds *vchip.Dataset, cfg *vchip.Config) (*vchip.Passport, *recorder, *sm.Session) {
	t.Helper()
	p := newPassport(t, ds, cfg)
	rec := &recorder{t: p}
	wantSW(t, rec, selectApp(), icao.StatusOK)
	s := openBAC(t, rec)
	return p, rec, s
}
