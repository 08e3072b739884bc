package chipauth

// The chip side of Chip Authentication, for tests and, later, the virtual
// chip: CardKey is the static key pair and its ChipAuthenticationInfo and
// ChipAuthenticationPublicKeyInfo; Card answers the plain commands that
// the secure messaging layer has unwrapped.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/sm"
)

// CardKey is a chip's static Chip Authentication key pair on a
// standardized domain (9303-11 §9.5.1: 0–2 DH, 8–18 ECDH).
type CardKey struct {
	domainID int
	keyID    int
	curve    *group.Curve
	dh       *group.DH
	sk       *big.Int
}

// GenerateCardKey returns a random key pair on the domain parameters with
// the standardized ID; keyID may be NoKeyID. A nil r means crypto/rand.
func GenerateCardKey(domainID, keyID int, r io.Reader) (*CardKey, error) {
	if r == nil {
		r = rand.Reader
	}
	k := &CardKey{domainID: domainID, keyID: keyID}
	var n *big.Int
	if c, ok := group.CurveByID(domainID); ok {
		k.curve, n = c, c.Params().N
	} else if d, ok := group.DHByID(domainID); ok {
		k.dh, n = d, d.Q()
	} else {
		return nil, fmt.Errorf("card key: domain parameters %d", domainID)
	}
	sk, err := randScalar(r, n)
	if err != nil {
		return nil, err
	}
	k.sk = sk
	return k, nil
}

// agreement returns DH or ECDH.
func (k *CardKey) agreement() KeyAgreement {
	if k.curve != nil {
		return ECDH
	}
	return DH
}

// publicKey returns the subjectPublicKey content: an uncompressed point, or
// the DER INTEGER of the DH public value.
func (k *CardKey) publicKey() []byte {
	if k.curve != nil {
		return k.curve.Marshal(k.curve.ScalarBaseMult(k.sk))
	}
	y := new(big.Int).Exp(k.dh.G(), k.sk, k.dh.P())
	der, _ := asn1.Marshal(y)
	return der
}

// PublicKeyInfo returns the DER ChipAuthenticationPublicKeyInfo (9303-11
// §9.2.6) with standardizedDomainParameters.
func (k *CardKey) PublicKeyInfo() []byte {
	type algorithm struct {
		OID asn1.ObjectIdentifier
		ID  int
	}
	type spki struct {
		Algorithm algorithm
		Key       asn1.BitString
	}
	pub := k.publicKey()
	oid := append(append(asn1.ObjectIdentifier{}, oidPK...), int(k.agreement()))
	body := []any{oid, spki{algorithm{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 2}, k.domainID}, asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)}}}
	if k.keyID != NoKeyID {
		body = append(body, k.keyID)
	}
	return marshalSeq(body...)
}

// Info returns the DER ChipAuthenticationInfo (9303-11 §9.2.5) of the key
// with the cipher.
func (k *CardKey) Info(c Cipher) []byte {
	body := []any{Protocol{k.agreement(), c}.OID(), 1}
	if k.keyID != NoKeyID {
		body = append(body, k.keyID)
	}
	return marshalSeq(body...)
}

// marshalSeq encodes a SEQUENCE of the values.
func marshalSeq(vs ...any) []byte {
	var body []byte
	for _, v := range vs {
		b, err := asn1.Marshal(v)
		if err != nil {
			panic(err) // test helper: the values are ours
		}
		body = append(body, b...)
	}
	return tlv.Encode(0x30, body)
}

// Card answers Chip Authentication commands as a chip does. After the
// answer that completes the protocol it hands over the new keys; the chip
// protects that answer with the old keys and switches afterwards.
type Card struct {
	key      *CardKey
	ciphers  []Cipher // offered; KAT uses the first 3DES one
	selected *Protocol
}

// NewCard returns the chip side for key offering the ciphers.
func NewCard(key *CardKey, ciphers ...Cipher) *Card { return &Card{key: key, ciphers: ciphers} }

// Handle answers one plain command. keys is non-nil when the command
// completed Chip Authentication.
func (c *Card) Handle(cmd icao.Command) (resp icao.Response, keys *sm.Keys) {
	switch {
	case cmd.INS == icao.InsMSE && cmd.P1 == 0x41 && cmd.P2 == 0xA6:
		return c.setKAT(cmd.Data)
	case cmd.INS == icao.InsMSE && cmd.P1 == 0x41 && cmd.P2 == 0xA4:
		return c.setAT(cmd.Data), nil
	case cmd.INS == icao.InsGeneralAuthenticate && cmd.P1 == 0 && cmd.P2 == 0 && cmd.CLA&0x10 == 0:
		return c.authenticate(cmd.Data)
	}
	return icao.Response{SW: icao.StatusInsNotSupported}, nil
}

// setKAT runs the key agreement at once (CA version 1, 3DES).
func (c *Card) setKAT(data []byte) (icao.Response, *sm.Keys) {
	dos, ok := parseDOs(data)
	if !ok || !c.keyIDMatches(dos) || !c.offers(TDES) {
		return icao.Response{SW: icao.StatusRefDataNotFound}, nil
	}
	keys, err := c.agree(dos[0x91], TDES)
	if err != nil {
		return icao.Response{SW: icao.StatusWrongData}, nil
	}
	return icao.Response{SW: icao.StatusOK}, keys
}

// setAT selects the protocol for GENERAL AUTHENTICATE.
func (c *Card) setAT(data []byte) icao.Response {
	c.selected = nil
	dos, ok := parseDOs(data)
	if !ok || !c.keyIDMatches(dos) {
		return icao.Response{SW: icao.StatusRefDataNotFound}
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(tlv.Encode(0x06, dos[0x80]), &oid); err != nil {
		return icao.Response{SW: icao.StatusWrongData}
	}
	p, ok := ProtocolByOID(oid)
	if !ok || p.KeyAgreement != c.key.agreement() || !c.offers(p.Cipher) {
		return icao.Response{SW: icao.StatusWrongData}
	}
	c.selected = &p
	return icao.Response{SW: icao.StatusOK}
}

// authenticate runs the key agreement selected by MSE:Set AT.
func (c *Card) authenticate(data []byte) (icao.Response, *sm.Keys) {
	if c.selected == nil {
		return icao.Response{SW: icao.StatusConditionsNotMet}, nil
	}
	p := *c.selected
	c.selected = nil
	o, err := tlv.DecodeExpect(data, 0x7C)
	if err != nil {
		return icao.Response{SW: icao.StatusWrongData}, nil
	}
	pub, ok, err := tlv.Find(o.Value, 0x80)
	if err != nil || !ok {
		return icao.Response{SW: icao.StatusWrongData}, nil
	}
	keys, err := c.agree(pub.Value, p.Cipher)
	if err != nil {
		return icao.Response{SW: icao.StatusWrongData}, nil
	}
	return icao.Response{Data: []byte{0x7C, 0x00}, SW: icao.StatusOK}, keys
}

// agree computes the session keys from the terminal's ephemeral key.
func (c *Card) agree(pub []byte, ci Cipher) (*sm.Keys, error) {
	k := Key{curve: c.key.curve, dh: c.key.dh, pub: pub}
	if c.key.dh != nil {
		y := new(big.Int).SetBytes(pub)
		if err := checkDH(c.key.dh, y); err != nil {
			return nil, err
		}
	}
	secret, err := k.sharedSecret(c.key.sk)
	if err != nil {
		return nil, err
	}
	keys, err := SessionKeys(ci, secret)
	return &keys, err
}

func (c *Card) offers(ci Cipher) bool {
	for _, x := range c.ciphers {
		if x == ci {
			return true
		}
	}
	return false
}

// keyIDMatches checks DO'84' against the key's ID.
func (c *Card) keyIDMatches(dos map[byte][]byte) bool {
	v, ok := dos[0x84]
	if !ok {
		return true
	}
	return c.key.keyID != NoKeyID && new(big.Int).SetBytes(v).Cmp(big.NewInt(int64(c.key.keyID))) == 0
}

// parseDOs splits a sequence of one-byte-tag data objects.
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

// chip is a whole chip for round trips: secure messaging with the keys of
// BAC or PACE, Chip Authentication, then secure messaging with the new
// keys. Other commands get 9000.
type chip struct {
	sm   *sm.Card
	ca   *Card
	seen []icao.Command // plain commands, for counting
}

func (ch *chip) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	plain, err := ch.sm.Unwrap(capdu)
	if err != nil {
		return []byte{0x69, 0x88}, nil
	}
	cmd, err := icao.ParseCommand(plain)
	if err != nil {
		return nil, err
	}
	ch.seen = append(ch.seen, cmd)
	resp, keys := ch.ca.Handle(cmd)
	if cmd.INS == icao.InsSelect {
		resp = icao.Response{SW: icao.StatusOK}
	}
	out, err := ch.sm.Wrap(resp.Marshal())
	if err != nil {
		return nil, err
	}
	if keys != nil {
		if ch.sm, err = sm.NewCard(*keys); err != nil {
			return nil, err
		}
	}
	return out, nil
}
