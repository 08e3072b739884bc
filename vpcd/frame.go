package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"syscall"
)

// Control messages: 1-byte frames from vpcd (vpcd/src/vpcd.h).
const (
	ctrlPowerOff = 0x00
	ctrlPowerOn  = 0x01
	ctrlReset    = 0x02
	ctrlATR      = 0x04
)

// maxFrame is the largest frame body: the length prefix has 16 bits. vpcd
// refuses to send more, so an extended command APDU reaches the card only up
// to 65535 bytes, and a response must fit the same bound.
const maxFrame = 0xFFFF

// swNoDiagnosis answers an APDU the card failed on (ISO 7816-4 §5.6: 6F00).
var swNoDiagnosis = []byte{0x6F, 0x00}

// server runs the card side of the vpcd protocol over r and w.
type server struct {
	card    Card
	atr     []byte
	r       io.Reader
	w       io.Writer
	onFirst func() // called once, when the first frame arrives
}

// serve answers frames until reading or writing fails; a clean close by
// vpcd between frames surfaces as io.EOF.
func (s *server) serve(ctx context.Context) error {
	for {
		msg, err := readFrame(s.r)
		if err != nil {
			return err
		}
		if s.onFirst != nil {
			s.onFirst()
			s.onFirst = nil
		}
		out := s.handle(ctx, msg)
		if out == nil {
			continue
		}
		if err := writeFrame(s.w, out); err != nil {
			return err
		}
	}
}

// handle returns the answer to one frame, or nil when none is due.
func (s *server) handle(ctx context.Context, msg []byte) []byte {
	switch len(msg) {
	case 0:
		return nil // vpcd never sends one; vpicc ignores it too
	case 1:
		return s.control(msg[0])
	}
	resp, err := s.card.Transmit(ctx, msg)
	if err != nil || len(resp) < 2 || len(resp) > maxFrame {
		return swNoDiagnosis
	}
	return resp
}

// control acts on a control message. Unknown codes are ignored, as vpicc does.
func (s *server) control(code byte) []byte {
	switch code {
	case ctrlATR:
		return s.atr
	case ctrlPowerOff, ctrlPowerOn, ctrlReset:
		if r, ok := s.card.(Resetter); ok {
			r.Reset()
		}
	}
	return nil
}

// readFrame reads one length-prefixed frame into a fresh slice. io.EOF means
// the peer closed between frames; a frame cut short is io.ErrUnexpectedEOF.
func readFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	msg := make([]byte, binary.BigEndian.Uint16(hdr[:]))
	if _, err := io.ReadFull(r, msg); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return msg, nil
}

// writeFrame writes msg (at most maxFrame bytes) with its length prefix in
// one Write, so that it leaves as one TCP segment.
func writeFrame(w io.Writer, msg []byte) error {
	if len(msg) > maxFrame {
		return errors.New("frame too long") // callers bound msg; never reached
	}
	buf := make([]byte, 2+len(msg))
	binary.BigEndian.PutUint16(buf, uint16(len(msg)))
	copy(buf[2:], msg)
	_, err := w.Write(buf)
	return err
}

// isEOF reports whether err means that vpcd closed the connection between
// frames.
func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}
