package pace

import (
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"
	"sync"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/sm"
)

// CardConfig configures the chip side of PACE. It holds the passwords and
// the chip key, so it has no String method and logs and formats as
// "redacted".
type CardConfig struct {
	// Passwords are the passwords the chip accepts: its MRZ and, for ID
	// cards, its CAN. At least one is required.
	Passwords []Password
	// Infos are the protocols the chip offers, as its EF.CardAccess lists
	// them ([EncodeCardAccess]). Each must be [Info.Supported].
	Infos []Info
	// ChipKey is the static Chip Authentication key; required when Infos
	// hold a CAM protocol, and then on the same curve.
	ChipKey *ChipKey
	// Rand is the source of the nonce and the chip's ephemeral keys. nil
	// means crypto/rand.Reader.
	Rand io.Reader
}

// LogValue keeps the passwords and the chip key out of structured logs.
func (CardConfig) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb.
func (CardConfig) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// Card is the chip side of PACE, for a virtual chip and for tests: it
// answers MSE:Set AT and the chained GENERAL AUTHENTICATE commands of
// 9303-11 §4.4.4 as a chip does, and hands over the session keys when the
// terminal has authenticated. It is safe for concurrent use, one PACE run
// at a time. Card has no String method; it logs and formats as
// "redacted".
type Card struct {
	mu        sync.Mutex
	passwords []Password
	infos     []Info
	key       *ChipKey
	rand      io.Reader
	keygen    keygen
	run       *cardRun // nil when no PACE run is in progress
}

// cardRun is the state of one PACE run between MSE:Set AT and the last
// GENERAL AUTHENTICATE.
type cardRun struct {
	info   Info
	pw     Password
	suite  sm.Suite
	keyLen int
	g      paceGroup
	next   int // the GENERAL AUTHENTICATE step expected, 1–4
	s      []byte
	skMap  *big.Int
	pubIFD []byte
	pubIC  []byte
	keys   sm.Keys
}

// NewCard returns the chip side for cfg.
func NewCard(cfg CardConfig) (*Card, error) {
	if len(cfg.Passwords) == 0 {
		return nil, fmt.Errorf("%w: card without a password", ErrPassword)
	}
	for _, pw := range cfg.Passwords {
		if !pw.valid() {
			return nil, fmt.Errorf("%w: card password is not an MRZ or CAN", ErrPassword)
		}
	}
	for _, i := range cfg.Infos {
		g, err := i.group()
		if err != nil {
			return nil, fmt.Errorf("pace: card: %w", err)
		}
		if i.Mapping() != ChipAuthenticationMapping {
			continue
		}
		if e, ok := g.(*ecGroup); !ok || cfg.ChipKey == nil || cfg.ChipKey.c.id != e.c.id {
			return nil, fmt.Errorf("pace: card: %v needs a chip key on %s", i, g.domainName())
		}
	}
	c := &Card{passwords: slices.Clone(cfg.Passwords), infos: slices.Clone(cfg.Infos), key: cfg.ChipKey, rand: cfg.Rand, keygen: defaultKeygen}
	if c.rand == nil {
		c.rand = rand.Reader
	}
	return c, nil
}

// LogValue keeps the card state out of structured logs.
func (*Card) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the passwords, the chip key or a run's session keys.
func (*Card) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// Handle answers one command: MSE:Set AT (00 22 C1 A4) starts a PACE run,
// GENERAL AUTHENTICATE (x0 86 00 00) continues it. Any other instruction
// gets 6D00. The status words are those of 9303-11 §4.4.4: 6A80 for data
// the chip cannot use (unknown protocol, malformed or invalid keys), 6A88
// for a password or domain parameters it does not have, 6985 for a GENERAL
// AUTHENTICATE out of sequence, 6300 for a wrong authentication token. A
// failed step ends the run; the terminal starts again with MSE:Set AT.
// The chaining bit of CLA is not checked: the run's state says which step
// comes next. Responses are not cut to Ne; a DH-2048 answer is longer than
// 256 bytes, as the extended-length command asking for it allows.
//
// When the terminal's token verifies, the response carries T_IC (and the
// encrypted chip authentication data for CAM) and Handle returns the
// session keys, which the caller turns into an sm.Card. The error is
// non-nil only when the random source fails; the response then says 6F00.
func (c *Card) Handle(cmd icao.Command) (icao.Response, *sm.Keys, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch cmd.INS {
	case icao.InsMSE:
		c.run = nil
		return c.setAT(cmd), nil, nil
	case icao.InsGeneralAuthenticate:
		if c.run == nil {
			return status(icao.StatusConditionsNotMet), nil, nil
		}
		if cmd.P1 != 0 || cmd.P2 != 0 {
			c.run = nil
			return status(icao.StatusIncorrectP1P2), nil, nil
		}
		resp, keys, err := c.general(cmd.Data)
		if err != nil || resp.SW != icao.StatusOK || keys != nil {
			c.run = nil
		}
		if err != nil {
			return status(icao.StatusUnknown), nil, err
		}
		return resp, keys, nil
	}
	return status(icao.StatusInsNotSupported), nil, nil
}

func status(sw icao.StatusWord) icao.Response { return icao.Response{SW: sw} }

// setAT selects the protocol, password and domain parameters.
func (c *Card) setAT(cmd icao.Command) icao.Response {
	if cmd.P1 != 0xC1 || cmd.P2 != 0xA4 {
		return status(icao.StatusIncorrectP1P2)
	}
	dos, err := tlv.Children(cmd.Data, 8)
	if err != nil {
		return status(icao.StatusWrongData)
	}
	var oid asn1.ObjectIdentifier
	ref, id := byte(0), NoParameterID
	for _, do := range dos {
		switch do.Tag {
		case 0x80:
			oid, err = parseOID(tlv.Object{Tag: tagOID, Value: do.Value})
		case 0x83:
			if len(do.Value) == 1 {
				ref = do.Value[0]
			}
		case 0x84:
			if len(do.Value) > 0 && len(do.Value) <= 2 {
				id = int(new(big.Int).SetBytes(do.Value).Int64())
			}
		}
		if err != nil {
			return status(icao.StatusWrongData)
		}
	}
	return c.selectRun(oid, ref, id)
}

// selectRun finds the offered protocol and the password and starts a run.
func (c *Card) selectRun(oid asn1.ObjectIdentifier, ref byte, id int) icao.Response {
	idx := slices.IndexFunc(c.infos, func(i Info) bool { return i.Protocol.Equal(oid) })
	if idx < 0 {
		return status(icao.StatusWrongData)
	}
	if id != NoParameterID {
		idx = slices.IndexFunc(c.infos, func(i Info) bool { return i.Protocol.Equal(oid) && i.ParameterID == id })
	}
	pw := slices.IndexFunc(c.passwords, func(p Password) bool { return p.ref == ref })
	if idx < 0 || pw < 0 {
		return status(icao.StatusRefDataNotFound)
	}
	info := c.infos[idx]
	g, err := info.group()
	if err != nil {
		return status(icao.StatusWrongData)
	}
	c.run = &cardRun{info: info, pw: c.passwords[pw], suite: info.Cipher(), keyLen: info.KeyLength(), g: g, next: 1}
	return status(icao.StatusOK)
}

// errRejected carries the status word a failed step answers with.
type errRejected struct{ sw icao.StatusWord }

func (e errRejected) Error() string { return e.sw.Error() }

// general runs the expected step.
func (c *Card) general(data []byte) (icao.Response, *sm.Keys, error) {
	r := c.run
	a, err := parseAuthData(data)
	if err != nil {
		return status(icao.StatusWrongData), nil, nil
	}
	var out []byte
	var keys *sm.Keys
	switch r.next {
	case 1:
		out, err = c.sendNonce(r, &a)
	case 2:
		out, err = c.mapNonce(r, &a)
	case 3:
		out, err = c.agree(r, &a)
	case 4:
		out, keys, err = c.authenticate(r, &a)
	}
	var rej errRejected
	switch {
	case errors.As(err, &rej):
		return status(rej.sw), nil, nil
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrInvalidKey):
		return status(icao.StatusWrongData), nil, nil
	case err != nil:
		return icao.Response{}, nil, err
	}
	r.next++
	return icao.Response{Data: out, SW: icao.StatusOK}, keys, nil
}
