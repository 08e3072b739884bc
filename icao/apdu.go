package icao

import (
	"errors"
	"fmt"
)

// Instruction bytes used by this package and its peers (ISO/IEC 7816-4,
// 9303-11).
const (
	InsSelect               byte = 0xA4
	InsReadBinary           byte = 0xB0
	InsReadBinaryOdd        byte = 0xB1
	InsGetChallenge         byte = 0x84
	InsExternalAuthenticate byte = 0x82
	InsInternalAuthenticate byte = 0x88
	InsMSE                  byte = 0x22
	InsGeneralAuthenticate  byte = 0x86
	InsGetResponse          byte = 0xC0
)

// Limits of the expected response length Ne (ISO/IEC 7816-4 §5.1).
const (
	MaxShortNe    = 256
	MaxExtendedNe = 65536
	maxShortNc    = 255
	maxExtendedNc = 65535
)

// Errors returned when APDU bytes are malformed.
var (
	ErrMalformedAPDU    = errors.New("icao: malformed APDU")
	ErrTooManyResponses = errors.New("icao: chip kept answering 61xx")
)

// Command is a command APDU. Ne is the expected response length: 0 means no
// Le field, 1..256 fits a short APDU (256 is encoded as 00), anything up to
// 65536 needs an extended APDU.
type Command struct {
	CLA, INS, P1, P2 byte
	Data             []byte
	Ne               int
}

// Extended reports whether the command needs the extended-length encoding.
// [IsExtended] tells how an APDU already encoded was encoded.
func (c Command) Extended() bool {
	return len(c.Data) > maxShortNc || c.Ne > MaxShortNe
}

// IsExtended reports whether the encoded command APDU capdu uses the
// extended-length encoding (ISO/IEC 7816-4 §5.1: a zero byte where a short
// APDU has its Lc or Le, followed by two length bytes).
func IsExtended(capdu []byte) bool {
	return len(capdu) >= 7 && capdu[4] == 0
}

// Marshal encodes the command in the shortest form that carries it (cases
// 1, 2, 3 and 4, short or extended).
func (c Command) Marshal() ([]byte, error) {
	if len(c.Data) > maxExtendedNc || c.Ne < 0 || c.Ne > MaxExtendedNe {
		return nil, fmt.Errorf("%w: Nc=%d Ne=%d out of range", ErrMalformedAPDU, len(c.Data), c.Ne)
	}
	b := make([]byte, 0, 4+3+len(c.Data)+3)
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	if !c.Extended() {
		if len(c.Data) > 0 {
			b = append(b, byte(len(c.Data)))
			b = append(b, c.Data...)
		}
		if c.Ne > 0 {
			b = append(b, byte(c.Ne)) // 256 wraps to 00
		}
		return b, nil
	}
	if len(c.Data) > 0 {
		b = append(b, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Ne > 0 {
		if len(c.Data) == 0 {
			b = append(b, 0)
		}
		b = append(b, byte(c.Ne>>8), byte(c.Ne)) // 65536 wraps to 0000
	}
	return b, nil
}

// ParseCommand decodes a command APDU in any of the ISO/IEC 7816-4 cases.
// Data aliases b.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("%w: %d bytes", ErrMalformedAPDU, len(b))
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.Ne = shortNe(body[0])
		return c, nil
	case body[0] != 0: // case 3S or 4S
		nc := int(body[0])
		switch len(body) {
		case 1 + nc:
		case 2 + nc:
			c.Ne = shortNe(body[1+nc])
		default:
			return Command{}, fmt.Errorf("%w: short Lc %d does not match %d body bytes", ErrMalformedAPDU, nc, len(body))
		}
		c.Data = body[1 : 1+nc]
		return c, nil
	case len(body) == 3: // case 2E
		c.Ne = extendedNe(body[1], body[2])
		return c, nil
	}
	if len(body) < 3 {
		return Command{}, fmt.Errorf("%w: truncated extended length", ErrMalformedAPDU)
	}
	nc := int(body[1])<<8 | int(body[2])
	if nc == 0 {
		return Command{}, fmt.Errorf("%w: extended Lc of zero", ErrMalformedAPDU)
	}
	switch len(body) {
	case 3 + nc: // case 3E
	case 5 + nc: // case 4E
		c.Ne = extendedNe(body[3+nc], body[4+nc])
	default:
		return Command{}, fmt.Errorf("%w: extended Lc %d does not match %d body bytes", ErrMalformedAPDU, nc, len(body))
	}
	c.Data = body[3 : 3+nc]
	return c, nil
}

func shortNe(le byte) int {
	if le == 0 {
		return MaxShortNe
	}
	return int(le)
}

func extendedNe(hi, lo byte) int {
	if n := int(hi)<<8 | int(lo); n != 0 {
		return n
	}
	return MaxExtendedNe
}

// Response is a response APDU.
type Response struct {
	Data []byte
	SW   StatusWord
}

// ParseResponse splits a response APDU into data and status word. Data
// aliases b.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("%w: response of %d bytes has no status word", ErrMalformedAPDU, len(b))
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: StatusWord(b[n])<<8 | StatusWord(b[n+1])}, nil
}

// Marshal encodes the response as data followed by SW1 SW2.
func (r Response) Marshal() []byte {
	b := make([]byte, 0, len(r.Data)+2)
	b = append(b, r.Data...)
	return append(b, byte(r.SW>>8), byte(r.SW))
}

// Err returns nil for 9000 and the status word as an error otherwise.
func (r Response) Err() error {
	if r.SW == StatusOK {
		return nil
	}
	return r.SW
}
