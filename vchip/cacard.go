package vchip

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"slices"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/sm"
)

// CACard is the chip side of Chip Authentication (9303-11 §6.2) for the
// commands secure messaging has unwrapped: MSE:Set KAT runs CA version 1
// at once, MSE:Set AT selects a protocol for GENERAL AUTHENTICATE (CA
// version 2). The virtual passport runs one; chipauth's tests run one
// alone against the terminal side.
type CACard struct {
	key      *CAKey
	offers   []chipauth.Protocol
	selected *chipauth.Protocol // the protocol MSE:Set AT selected
}

// NewCACard returns the chip side of Chip Authentication with key,
// offering the protocols (a DG14 without ChipAuthenticationInfo offers
// 3DES, 9303-11 §6.2).
func NewCACard(key *CAKey, offers []chipauth.Protocol) *CACard {
	return &CACard{key: key, offers: offers}
}

// Handle answers one plain command. keys is non-nil when the command
// completed Chip Authentication: the chip protects this answer with the
// old keys and then switches to keys, with SSC 0 (9303-11 §6.2.1 step 4).
func (c *CACard) Handle(cmd icao.Command) (resp icao.Response, keys *sm.Keys) {
	switch cmd.INS {
	case icao.InsMSE:
		return c.mse(cmd)
	case icao.InsGeneralAuthenticate:
		return c.authenticate(cmd)
	}
	return fail(icao.StatusInsNotSupported), nil
}

// Reset forgets the protocol MSE:Set AT selected, as when secure
// messaging ends.
func (c *CACard) Reset() { c.selected = nil }

// mse answers MSE: Set KAT (41 A6), which runs CA version 1 at once with
// 3DES (9303-11 §6.2.4.1), or Set AT (41 A4) with an id-CA protocol in
// DO'80', which selects the protocol for GENERAL AUTHENTICATE (§6.2.4.2).
// DO'84' must name the key when present.
func (c *CACard) mse(cmd icao.Command) (icao.Response, *sm.Keys) {
	c.selected = nil
	switch {
	case cmd.P1 != 0x41:
		return fail(icao.StatusConditionsNotMet), nil // PACE's MSE starts in plain
	case len(c.offers) == 0:
		return fail(icao.StatusRefDataNotFound), nil
	case cmd.P2 != 0xA6 && cmd.P2 != 0xA4:
		return fail(icao.StatusIncorrectP1P2), nil
	}
	dos, ok := parseDOs(cmd.Data)
	switch {
	case !ok:
		return fail(icao.StatusWrongData), nil
	case !c.keyIDMatches(dos):
		return fail(icao.StatusRefDataNotFound), nil
	case cmd.P2 == 0xA6:
		return c.agree(dos[0x91], chipauth.TDES)
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(tlv.Encode(0x06, dos[0x80]), &oid); err != nil {
		return fail(icao.StatusWrongData), nil
	}
	proto, ok := chipauth.ProtocolByOID(oid)
	if !ok || !slices.Contains(c.offers, proto) {
		return fail(icao.StatusWrongData), nil
	}
	c.selected = &proto
	return icao.Response{SW: icao.StatusOK}, nil
}

// authenticate answers the GENERAL AUTHENTICATE of CA after MSE:Set AT:
// DO'7C' { DO'80' terminal key } in, an empty DO'7C' out.
func (c *CACard) authenticate(cmd icao.Command) (icao.Response, *sm.Keys) {
	if c.selected == nil {
		return fail(icao.StatusConditionsNotMet), nil
	}
	proto := *c.selected
	c.selected = nil
	o, err := tlv.DecodeExpect(cmd.Data, 0x7C)
	if err != nil {
		return fail(icao.StatusWrongData), nil
	}
	pub, found, err := tlv.Find(o.Value, 0x80)
	if err != nil || !found {
		return fail(icao.StatusWrongData), nil
	}
	resp, keys := c.agree(pub.Value, proto.Cipher)
	if resp.SW == icao.StatusOK {
		resp.Data = []byte{0x7C, 0x00}
	}
	return resp, keys
}

// agree derives the new session keys from the terminal's ephemeral key.
func (c *CACard) agree(pub []byte, ci chipauth.Cipher) (icao.Response, *sm.Keys) {
	if !slices.ContainsFunc(c.offers, func(o chipauth.Protocol) bool { return o.Cipher == ci }) {
		return fail(icao.StatusRefDataNotFound), nil
	}
	keys, err := c.key.agree(pub, ci)
	if err != nil {
		return fail(icao.StatusWrongData), nil
	}
	return icao.Response{SW: icao.StatusOK}, &keys
}

// keyIDMatches checks DO'84' against the key's keyId.
func (c *CACard) keyIDMatches(dos map[byte][]byte) bool {
	v, ok := dos[0x84]
	if !ok {
		return true
	}
	return c.key.KeyID != chipauth.NoKeyID && new(big.Int).SetBytes(v).Cmp(big.NewInt(int64(c.key.KeyID))) == 0
}

// parseDOs splits a sequence of data objects with one-byte tags.
func parseDOs(b []byte) (map[byte][]byte, bool) {
	dos := map[byte][]byte{}
	for len(b) > 0 {
		o, rest, err := tlv.Next(b)
		if err != nil || o.Tag > 0xFF {
			return nil, false
		}
		dos[byte(o.Tag)] = bytes.Clone(o.Value)
		b = rest
	}
	return dos, true
}
