package sm

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

// chip is a Transport backed by a Card and a plain command handler. It
// records the plain commands and the raw protected APDUs it saw.
type chip struct {
	card      *Card
	handle    func(icao.Command) icao.Response
	plain     []icao.Command
	protected [][]byte
	responses [][]byte
}

func (c *chip) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	c.protected = append(c.protected, append([]byte(nil), capdu...))
	raw, err := c.card.Unwrap(capdu)
	if err != nil {
		sw := CardStatus(err)
		return []byte{byte(sw >> 8), byte(sw)}, nil
	}
	cmd, err := icao.ParseCommand(raw)
	if err != nil {
		return nil, err
	}
	c.plain = append(c.plain, cmd)
	out, err := c.card.Wrap(c.handle(cmd).Marshal())
	c.responses = append(c.responses, out)
	return out, err
}

// pattern returns n bytes that differ from each other's neighbours.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// echo answers Ne bytes of a pattern with 9000, at most 65000 so that the
// protected response fits an extended response APDU.
func echo(cmd icao.Command) icao.Response {
	if cmd.Ne == 0 {
		return icao.Response{SW: icao.StatusOK}
	}
	return icao.Response{Data: pattern(min(cmd.Ne, 65000), cmd.INS), SW: icao.StatusOK}
}

func testKeys(s Suite, keyLen int) Keys {
	k := Keys{Suite: s, Enc: pattern(keyLen, 1), MAC: pattern(keyLen, 2)}
	if s == TDES {
		k.SSC = []byte{0x88, 0x70, 0x22, 0x12, 0x0c, 0x06, 0xc2, 0x26}
	}
	return k
}

// pair returns a session and the chip behind it, sharing keys k.
func pair(t testing.TB, k Keys, handle func(icao.Command) icao.Response) (*Session, *chip) {
	t.Helper()
	card, err := NewCard(k)
	require.NoError(t, err, "NewCard")
	c := &chip{card: card, handle: handle}
	s, err := NewSession(c, k)
	require.NoError(t, err, "NewSession")
	return s, c
}

// sscOf returns a copy of the session's current SSC.
func sscOf(s *Session) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.ch.counter()...)
}
