package vchip

import (
	"bytes"
	"io"
	"slices"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
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
		key := &CAKey{ParameterID: k.ParameterID, KeyID: k.KeyID, Private: bytes.Clone(k.Private)}
		if p.cfg.Cloned {
			clone, err := GenerateCAKey(k.ParameterID, k.KeyID, p.rand)
			if err != nil {
				return err
			}
			key = clone
		}
		p.ca = NewCACard(key, caOffers(ds.Files["DG14"], k))
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

// chipAuth answers the protected MSE and GENERAL AUTHENTICATE of Chip
// Authentication; the keys it derives take over once this answer is
// protected with the old ones ([Passport.switchKeys]).
func (p *Passport) chipAuth(cmd icao.Command) icao.Response {
	if p.ca == nil {
		return fail(icao.StatusConditionsNotMet)
	}
	resp, keys := p.ca.Handle(cmd)
	if keys != nil {
		p.nextKeys = keys
	}
	return resp
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
