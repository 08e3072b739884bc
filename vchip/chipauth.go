package vchip

import (
	"bytes"
	"encoding/asn1"
	"io"
	"math/big"
	"slices"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
)

// setupAuth prepares Chip and Active Authentication from the dataset: the
// CA protocols are those DG14 offers for the key's keyId (3DES when DG14
// has no ChipAuthenticationInfo, 9303-11 §6.2), the keys those of the
// dataset, or fresh random ones of the same kind in [Config.Cloned] mode.
func (p *Passport) setupAuth(ds *Dataset) error {
	if k := ds.CAKey; k != nil {
		if _, _, err := k.parse(); err != nil {
			return err
		}
		p.caKey = &CAKey{ParameterID: k.ParameterID, KeyID: k.KeyID, Private: bytes.Clone(k.Private)}
		if p.cfg.Cloned {
			clone, err := GenerateCAKey(k.ParameterID, k.KeyID, p.rand)
			if err != nil {
				return err
			}
			p.caKey = clone
		}
		p.caOffers = caOffers(ds.Files["DG14"], k)
	}
	if k := ds.AAKey; k != nil {
		if err := k.check(); err != nil {
			return err
		}
		p.aaKey = k
		if p.cfg.Cloned {
			clone, err := cloneAAKey(k, p.rand)
			if err != nil {
				return err
			}
			p.aaKey = clone
		}
	}
	return nil
}

// cloneAAKey returns a new random key of the kind and size of k.
func cloneAAKey(k *AAKey, r io.Reader) (*AAKey, error) {
	if k.RSA != nil {
		return GenerateRSAAAKey(k.RSA.N.BitLen(), k.Hash, r)
	}
	return GenerateECAAKey(k.ParameterID, k.Hash, r)
}

// caOffers returns the CA protocols DG14 offers for key: chipauth.Keys
// pairs infos and keys as a terminal does, so chip and terminal agree on
// what a DG14 without ChipAuthenticationInfo means.
func caOffers(dg14 []byte, key *CAKey) []chipauth.Protocol {
	infos, err := pace.ParseDG14(dg14)
	if err != nil {
		return nil
	}
	var out []chipauth.Protocol
	for _, k := range chipauth.Keys(infos) {
		if k.KeyID == key.KeyID && !slices.Contains(out, k.Protocol) {
			out = append(out, k.Protocol)
		}
	}
	return out
}

// mseCA answers a protected MSE: Set KAT (41 A6), which runs CA version 1
// at once with 3DES (9303-11 §6.2.4.1), or Set AT (41 A4) with an id-CA
// protocol in DO'80', which selects the protocol for GENERAL AUTHENTICATE
// (§6.2.4.2). DO'84' must name the key when present.
func (p *Passport) mseCA(cmd icao.Command) icao.Response {
	p.caSelected = nil
	switch {
	case p.caKey == nil || cmd.P1 != 0x41:
		return fail(icao.StatusConditionsNotMet) // PACE's MSE starts in plain
	case len(p.caOffers) == 0:
		return fail(icao.StatusRefDataNotFound)
	case cmd.P2 != 0xA6 && cmd.P2 != 0xA4:
		return fail(icao.StatusIncorrectP1P2)
	}
	dos, ok := parseDOs(cmd.Data)
	switch {
	case !ok:
		return fail(icao.StatusWrongData)
	case !p.keyIDMatches(dos):
		return fail(icao.StatusRefDataNotFound)
	case cmd.P2 == 0xA6:
		return p.agreeCA(dos[0x91], chipauth.TDES)
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(tlv.Encode(0x06, dos[0x80]), &oid); err != nil {
		return fail(icao.StatusWrongData)
	}
	proto, ok := chipauth.ProtocolByOID(oid)
	if !ok || !slices.Contains(p.caOffers, proto) {
		return fail(icao.StatusWrongData)
	}
	p.caSelected = &proto
	return icao.Response{SW: icao.StatusOK}
}

// gaCA answers the protected GENERAL AUTHENTICATE of CA after MSE:Set AT:
// DO'7C' { DO'80' terminal key } in, an empty DO'7C' out.
func (p *Passport) gaCA(cmd icao.Command) icao.Response {
	if p.caSelected == nil {
		return fail(icao.StatusConditionsNotMet)
	}
	proto := *p.caSelected
	p.caSelected = nil
	o, err := tlv.DecodeExpect(cmd.Data, 0x7C)
	if err != nil {
		return fail(icao.StatusWrongData)
	}
	pub, found, err := tlv.Find(o.Value, 0x80)
	if err != nil || !found {
		return fail(icao.StatusWrongData)
	}
	resp := p.agreeCA(pub.Value, proto.Cipher)
	if resp.SW == icao.StatusOK {
		resp.Data = []byte{0x7C, 0x00}
	}
	return resp
}

// agreeCA derives the new session keys, which [Passport.secured] switches
// to once this answer is protected with the old ones (9303-11 §6.2.1 step
// 4: SSC 0).
func (p *Passport) agreeCA(pub []byte, c chipauth.Cipher) icao.Response {
	if !slices.ContainsFunc(p.caOffers, func(o chipauth.Protocol) bool { return o.Cipher == c }) {
		return fail(icao.StatusRefDataNotFound)
	}
	keys, err := p.caKey.agree(pub, c)
	if err != nil {
		return fail(icao.StatusWrongData)
	}
	p.nextKeys = &keys
	return icao.Response{SW: icao.StatusOK}
}

// keyIDMatches checks DO'84' against the key's keyId.
func (p *Passport) keyIDMatches(dos map[byte][]byte) bool {
	v, ok := dos[0x84]
	if !ok {
		return true
	}
	return p.caKey.KeyID != chipauth.NoKeyID && new(big.Int).SetBytes(v).Cmp(big.NewInt(int64(p.caKey.KeyID))) == 0
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

// switchKeys starts secure messaging with the keys Chip Authentication
// derived, after the answer that completed it went out under the old
// ones.
func (p *Passport) switchKeys() {
	keys := p.nextKeys
	p.nextKeys = nil
	if keys == nil {
		return
	}
	defer clear(keys.Enc)
	defer clear(keys.MAC)
	sess, err := sm.NewCard(*keys)
	if err != nil {
		p.dropSession()
		return
	}
	p.sess.Close()
	p.sess, p.suite = sess, keys.Suite
}

// internalAuthenticate answers INTERNAL AUTHENTICATE (9303-11 §6.1.2):
// the signature of the 8-byte challenge with the Active Authentication
// key, under secure messaging only.
func (p *Passport) internalAuthenticate(cmd icao.Command, prot protection) icao.Response {
	switch {
	case p.aaKey == nil:
		return fail(icao.StatusInsNotSupported)
	case prot != protected:
		return fail(icao.StatusSecurityNotSatisfied)
	case cmd.P1 != 0 || cmd.P2 != 0:
		return fail(icao.StatusIncorrectP1P2)
	case len(cmd.Data) != challengeLen:
		return fail(icao.StatusWrongData)
	}
	sig, err := p.aaKey.sign(cmd.Data, p.rand)
	if err != nil {
		return fail(icao.StatusUnknown)
	}
	if cmd.Ne < len(sig) {
		return fail(icao.StatusWrongLength)
	}
	return icao.Response{Data: sig, SW: icao.StatusOK}
}
