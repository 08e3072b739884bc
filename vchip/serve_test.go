package vchip_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ebfe/scard"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// fakeReader plays vpcd's side of the protocol (vpcd package
// documentation): 1-byte control frames, APDU frames, 2-byte lengths.
type fakeReader struct {
	t    *testing.T
	conn net.Conn
}

func (r *fakeReader) send(msg []byte) {
	r.t.Helper()
	_, err := r.conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...))
	require.NoError(r.t, err)
}

// recv returns the next frame, or the read error (io.EOF once the card
// has gone).
func (r *fakeReader) recv() ([]byte, error) {
	r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var hdr [2]byte
	if _, err := io.ReadFull(r.conn, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	_, err := io.ReadFull(r.conn, msg)
	return msg, err
}

func (r *fakeReader) exchange(cmd icao.Command) []byte {
	r.t.Helper()
	raw, _ := cmd.Marshal()
	r.send(raw)
	out, err := r.recv()
	require.NoError(r.t, err, "exchange")
	return out
}

// TestServeFake serves a chip that removes itself after three APDUs to a
// fake vpcd: the third answer arrives, then the connection closes; with
// Reinsert the card connects again.
func TestServeFake(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	p := newPassport(t, ds, &vchip.Config{RemoveAfter: 3, ATR: []byte{0x3B, 0x80, 0x80, 0x01, 0x01}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inserted := make(chan struct{}, 2)
	served := make(chan error, 1)
	go func() {
		served <- vchip.Serve(ctx, ln.Addr().String(), p, &vchip.ServeConfig{
			Inserted: func() { inserted <- struct{}{} },
			Reinsert: 10 * time.Millisecond,
		})
	}()
	for round := range 2 {
		conn, err := ln.Accept()
		require.NoError(t, err)
		r := &fakeReader{t: t, conn: conn}
		r.send([]byte{0x04}) // get ATR
		atr, err := r.recv()
		require.NoError(t, err, "ATR")
		require.Equal(t, []byte{0x3B, 0x80, 0x80, 0x01, 0x01}, atr, "ATR")
		<-inserted
		r.send([]byte{0x01}) // power on
		for i := range 3 {
			require.Equal(t, []byte{0x90, 0x00}, r.exchange(selectApp()), "round %d APDU %d", round, i)
		}
		if round == 0 {
			raw, _ := selectApp().Marshal()
			r.send(raw)
			out, err := r.recv()
			require.Error(t, err, "the removed card answered % X", out)
		}
		if round == 0 {
			conn.Close()
			continue
		}
		// The reinserted card has RemoveAfter disarmed. End Serve before
		// the fake reader hangs up: a reader that closes first is vpcd
		// going away, which Serve reports as an error.
		cancel()
		require.NoError(t, <-served, "Serve")
		conn.Close()
	}
}

func TestServeNoReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	p := newPassport(t, loadSpecimen(t, "specimen-20k"), nil)
	require.Error(t, vchip.Serve(context.Background(), addr, p, nil), "Serve without a reader succeeded")
}

// scardTransport is an icao.Transport over a PC/SC card handle.
type scardTransport struct{ c *scard.Card }

func (s scardTransport) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.c.Transmit(capdu)
}

// TestServePCSC serves the specimen through pcscd's vpcd reader and reads
// it back with BAC through PC/SC, then lets the card remove itself and
// checks that PC/SC sees it go.
func TestServePCSC(t *testing.T) {
	pcsctest.Require(t)
	pcsctest.Lock(t)
	ds := loadSpecimen(t, "specimen-20k")
	p := newPassport(t, ds, nil)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- vchip.Serve(ctx, vpcd.Addr(0), p, nil) }()
	defer func() {
		cancel()
		assert.NoError(t, <-served, "Serve")
		pcsctest.WaitEmpty(t, 0)
	}()
	pcsctest.WaitPresent(t, 0)

	sc, err := scard.EstablishContext()
	require.NoError(t, err)
	defer sc.Release()
	names, err := sc.ListReaders()
	require.NoError(t, err, "readers")
	require.Contains(t, names, pcsctest.ReaderName(0), "readers")
	card, err := sc.Connect(pcsctest.ReaderName(0), scard.ShareExclusive, scard.ProtocolAny)
	require.NoError(t, err)
	defer card.Disconnect(scard.LeaveCard)
	if st, err := card.Status(); assert.NoError(t, err, "card status") {
		assert.Equal(t, vpcd.DefaultATR(), st.Atr, "ATR, want vpcd's default")
	}
	tr := scardTransport{card}
	wantSW(t, tr, selectApp(), icao.StatusOK)
	wantSW(t, tr, readSFI(0x1E, 0, 8), icao.StatusSecurityNotSatisfied)
	s := openBAC(t, tr)
	r := icao.NewFileReader(s, nil)
	for _, ef := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
		got, err := r.Read(context.Background(), ef, nil)
		require.NoError(t, err, "read %v through PC/SC", ef)
		// Whole files, DG2 included: a hex diff would bury the message.
		require.True(t, bytes.Equal(got, ds.Files[ef.String()]), "read %v through PC/SC: %d bytes that differ from the dataset's %d", ef, len(got), len(ds.Files[ef.String()]))
	}
}

// TestServePCSCRemoval lets the card remove itself after four APDUs: the
// fifth fails at the PC/SC layer and pcscd reports the slot empty.
func TestServePCSCRemoval(t *testing.T) {
	pcsctest.Require(t)
	pcsctest.Lock(t)
	p := newPassport(t, loadSpecimen(t, "specimen-20k"), &vchip.Config{RemoveAfter: 4})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- vchip.Serve(ctx, vpcd.Addr(0), p, nil) }()
	pcsctest.WaitPresent(t, 0)

	sc, err := scard.EstablishContext()
	require.NoError(t, err)
	defer sc.Release()
	card, err := sc.Connect(pcsctest.ReaderName(0), scard.ShareExclusive, scard.ProtocolAny)
	require.NoError(t, err)
	defer card.Disconnect(scard.LeaveCard)
	raw, _ := selectApp().Marshal()
	n := 0
	for ; n < 10; n++ {
		out, err := card.Transmit(raw)
		if err != nil {
			var se scard.Error
			require.ErrorAs(t, err, &se, "APDU %d: want a PC/SC error", n+1)
			t.Logf("APDU %d: %v", n+1, err)
			break
		}
		if len(out) < 2 {
			// vpcd's driver reports a card lost during an exchange as an
			// empty response; reader.Card turns it into ErrCardRemoved.
			t.Logf("APDU %d: empty response", n+1)
			break
		}
		require.Equal(t, []byte{0x90, 0x00}, out, "APDU %d", n+1)
	}
	require.Equal(t, 4, n, "APDUs served through PC/SC")
	pcsctest.WaitEmpty(t, 0)
	out, err := card.Transmit(raw)
	assert.Error(t, err, "APDU to the removed card answered % X", out)
	cancel()
	assert.NoError(t, <-served, "Serve")
}

// TestServePCSCPACE serves the PACE-only CAM specimen through pcscd's vpcd
// reader and runs what a reader does over PC/SC: EF.CardAccess in plain,
// PACE-CAM with the CAN, the LDS under AES secure messaging, and the CAM
// check against DG14; BAC is refused.
func TestServePCSCPACE(t *testing.T) {
	pcsctest.Require(t)
	pcsctest.Lock(t)
	ds := loadSpecimen(t, "specimen-pace-only-cam")
	p := newPassport(t, ds, &ds.Config)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- vchip.Serve(ctx, vpcd.Addr(0), p, nil) }()
	defer func() {
		cancel()
		assert.NoError(t, <-served, "Serve")
		pcsctest.WaitEmpty(t, 0)
	}()
	pcsctest.WaitPresent(t, 0)

	sc, err := scard.EstablishContext()
	require.NoError(t, err)
	defer sc.Release()
	card, err := sc.Connect(pcsctest.ReaderName(0), scard.ShareExclusive, scard.ProtocolAny)
	require.NoError(t, err)
	defer card.Disconnect(scard.LeaveCard)
	tr := scardTransport{card}
	wantSW(t, tr, icao.Command{INS: icao.InsGetChallenge, Ne: 8}, icao.StatusRefDataNotFound)
	res, err := openPACE(t, tr, password(t, "CAN"))
	require.NoError(t, err, "PACE through PC/SC")
	defer res.Session.Close()
	assert.Equal(t, pace.ChipAuthenticationMapping, res.Info.Mapping(), "ran %v", res.Info)
	assert.Equal(t, sm.AES, res.Info.Cipher(), "ran %v", res.Info)
	readLDS(t, res.Session, ds, icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2, icao.EFDG14)
	infos, err := pace.ParseDG14(ds.Files["DG14"])
	require.NoError(t, err)
	assert.NoError(t, res.CAM.Verify(infos), "CAM")
}
