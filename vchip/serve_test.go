package vchip_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

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
	if _, err := r.conn.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(msg))), msg...)); err != nil {
		r.t.Fatal(err)
	}
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
	if err != nil {
		r.t.Fatalf("exchange: %v", err)
	}
	return out
}

// TestServeFake serves a chip that removes itself after three APDUs to a
// fake vpcd: the third answer arrives, then the connection closes; with
// Reinsert the card connects again.
func TestServeFake(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
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
		if err != nil {
			t.Fatal(err)
		}
		r := &fakeReader{t: t, conn: conn}
		r.send([]byte{0x04}) // get ATR
		if atr, err := r.recv(); err != nil || !bytes.Equal(atr, []byte{0x3B, 0x80, 0x80, 0x01, 0x01}) {
			t.Fatalf("ATR % X, %v", atr, err)
		}
		<-inserted
		r.send([]byte{0x01}) // power on
		for i := range 3 {
			if out := r.exchange(selectApp()); !bytes.Equal(out, []byte{0x90, 0x00}) {
				t.Fatalf("round %d APDU %d answered % X", round, i, out)
			}
		}
		if round == 0 {
			raw, _ := selectApp().Marshal()
			r.send(raw)
			if out, err := r.recv(); err == nil {
				t.Fatalf("the removed card answered % X", out)
			}
		}
		if round == 0 {
			conn.Close()
			continue
		}
		// The reinserted card has RemoveAfter disarmed. End Serve before
		// the fake reader hangs up: a reader that closes first is vpcd
		// going away, which Serve reports as an error.
		cancel()
		if err := <-served; err != nil {
			t.Fatalf("Serve = %v", err)
		}
		conn.Close()
	}
}

func TestServeNoReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := newPassport(t, loadSpecimen(t, "specimen-20k"), nil)
	if err := vchip.Serve(context.Background(), addr, p, nil); err == nil {
		t.Fatal("Serve without a reader succeeded")
	}
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
		if err := <-served; err != nil {
			t.Errorf("Serve = %v", err)
		}
		pcsctest.WaitEmpty(t, 0)
	}()
	pcsctest.WaitPresent(t, 0)

	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Release()
	names, err := sc.ListReaders()
	if err != nil || !containsString(names, pcsctest.ReaderName(0)) {
		t.Fatalf("readers %q, %v", names, err)
	}
	card, err := sc.Connect(pcsctest.ReaderName(0), scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		t.Fatal(err)
	}
	defer card.Disconnect(scard.LeaveCard)
	if st, err := card.Status(); err != nil || !bytes.Equal(st.Atr, vpcd.DefaultATR()) {
		t.Errorf("ATR % X, %v; want vpcd's default", st.Atr, err)
	}
	tr := scardTransport{card}
	wantSW(t, tr, selectApp(), icao.StatusOK)
	wantSW(t, tr, readSFI(0x1E, 0, 8), icao.StatusSecurityNotSatisfied)
	s := openBAC(t, tr)
	r := icao.NewFileReader(s, nil)
	for _, ef := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2} {
		got, err := r.Read(context.Background(), ef, nil)
		if err != nil || !bytes.Equal(got, ds.Files[ef.String()]) {
			t.Fatalf("read %v through PC/SC: %d bytes, %v", ef, len(got), err)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Release()
	card, err := sc.Connect(pcsctest.ReaderName(0), scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		t.Fatal(err)
	}
	defer card.Disconnect(scard.LeaveCard)
	raw, _ := selectApp().Marshal()
	n := 0
	for ; n < 10; n++ {
		out, err := card.Transmit(raw)
		if err != nil {
			var se scard.Error
			if !errors.As(err, &se) {
				t.Fatalf("APDU %d: %v, want a PC/SC error", n+1, err)
			}
			t.Logf("APDU %d: %v", n+1, err)
			break
		}
		if len(out) < 2 {
			// vpcd's driver reports a card lost during an exchange as an
			// empty response; reader.Card turns it into ErrCardRemoved.
			t.Logf("APDU %d: empty response", n+1)
			break
		}
		if !bytes.Equal(out, []byte{0x90, 0x00}) {
			t.Fatalf("APDU %d answered % X", n+1, out)
		}
	}
	if n != 4 {
		t.Fatalf("%d APDUs served through PC/SC, want 4", n)
	}
	pcsctest.WaitEmpty(t, 0)
	if out, err := card.Transmit(raw); err == nil {
		t.Errorf("APDU to the removed card answered % X", out)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
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
		if err := <-served; err != nil {
			t.Errorf("Serve = %v", err)
		}
		pcsctest.WaitEmpty(t, 0)
	}()
	pcsctest.WaitPresent(t, 0)

	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Release()
	card, err := sc.Connect(pcsctest.ReaderName(0), scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		t.Fatal(err)
	}
	defer card.Disconnect(scard.LeaveCard)
	tr := scardTransport{card}
	wantSW(t, tr, icao.Command{INS: icao.InsGetChallenge, Ne: 8}, icao.StatusRefDataNotFound)
	res, err := openPACE(t, tr, password(t, "CAN"))
	if err != nil {
		t.Fatalf("PACE through PC/SC: %v", err)
	}
	defer res.Session.Close()
	if res.Info.Mapping() != pace.ChipAuthenticationMapping || res.Info.Cipher() != sm.AES {
		t.Errorf("ran %v", res.Info)
	}
	readLDS(t, res.Session, ds, icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2, icao.EFDG14)
	infos, err := pace.ParseDG14(ds.Files["DG14"])
	if err != nil {
		t.Fatal(err)
	}
	if err := res.CAM.Verify(infos); err != nil {
		t.Errorf("CAM: %v", err)
	}
}
