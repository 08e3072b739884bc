package pace

import (
	"bytes"
	"crypto/hmac"
	"fmt"
	"io"
	"math/big"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
)

// sendNonce answers step 1 with z = E(K_π, s) (9303-11 §4.4.3.3).
func (c *Card) sendNonce(r *cardRun, a *authData) ([]byte, error) {
	if a.present != 0 {
		return nil, fmt.Errorf("%w: data in the nonce request", ErrMalformed)
	}
	r.s = make([]byte, nonceLen(r.suite, r.keyLen))
	if _, err := io.ReadFull(c.rand, r.s); err != nil {
		return nil, fmt.Errorf("pace: card nonce: %w: %w", errRandom, err)
	}
	kpi, err := r.pw.key(r.suite, r.keyLen)
	if err != nil {
		return nil, err
	}
	defer clear(kpi)
	z, err := sm.EncryptCBC(r.suite, kpi, nil, r.s)
	if err != nil {
		return nil, err
	}
	return authObject(tagNonce, z), nil
}

// mapNonce answers step 2 and maps the generator (9303-11 §4.4.3.3).
func (c *Card) mapNonce(r *cardRun, a *authData) ([]byte, error) {
	data, err := a.require(tagMapIFD)
	if err != nil {
		return nil, err
	}
	if r.info.Mapping() == IntegratedMapping {
		if len(data) != r.keyLen {
			return nil, fmt.Errorf("%w: terminal nonce of %d bytes", ErrMalformed, len(data))
		}
		x, err := prf(r.suite, r.s, data, r.g.prime())
		if err != nil {
			return nil, err
		}
		if r.g, err = r.g.mapIntegrated(x); err != nil {
			return nil, err
		}
		return authObject(0, nil), nil
	}
	if err := r.g.check(data); err != nil {
		return nil, err
	}
	sk, err := c.keygen(r.g, c.rand)
	if err != nil {
		return nil, err
	}
	pub := r.g.public(sk)
	mapped, err := r.g.mapGeneric(new(big.Int).SetBytes(r.s), sk, data)
	if err != nil {
		return nil, err
	}
	r.g, r.skMap = mapped, sk
	return authObject(tagMapIC, pub), nil
}

// agree answers step 3 and derives the session keys.
func (c *Card) agree(r *cardRun, a *authData) ([]byte, error) {
	pubIFD, err := a.require(tagKeyIFD)
	if err != nil {
		return nil, err
	}
	if err := r.g.check(pubIFD); err != nil {
		return nil, err
	}
	sk, err := c.keygen(r.g, c.rand)
	if err != nil {
		return nil, err
	}
	pubIC := r.g.public(sk)
	if bytes.Equal(pubIC, pubIFD) {
		return nil, fmt.Errorf("%w: terminal sent the chip's key", ErrInvalidKey)
	}
	secret, err := r.g.secret(sk, pubIFD)
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	if r.keys, err = sessionKeys(r.suite, r.keyLen, secret); err != nil {
		return nil, err
	}
	r.pubIFD, r.pubIC = bytes.Clone(pubIFD), pubIC
	return authObject(tagKeyIC, pubIC), nil
}

// authenticate checks T_IFD and answers with T_IC and, for CAM, A_IC
// (9303-11 §4.4.3.4, §4.4.3.5.1).
func (c *Card) authenticate(r *cardRun, a *authData) ([]byte, *sm.Keys, error) {
	tIFD, err := a.require(tagTokenIFD)
	if err != nil {
		return nil, nil, err
	}
	tag := r.g.publicTag()
	want, err := token(r.suite, r.keys.MAC, publicKeyObject(r.info.Protocol, tag, r.pubIC))
	if err != nil {
		return nil, nil, err
	}
	if !hmac.Equal(tIFD, want) {
		return nil, nil, errRejected{icao.StatusAuthFailed}
	}
	tIC, err := token(r.suite, r.keys.MAC, publicKeyObject(r.info.Protocol, tag, r.pubIFD))
	if err != nil {
		return nil, nil, err
	}
	var out authData
	out.set(tagTokenIC, tIC)
	if r.info.Mapping() == ChipAuthenticationMapping {
		enc, err := c.encryptChipAuthData(r)
		if err != nil {
			return nil, nil, err
		}
		out.set(tagCAData, enc)
	}
	keys := r.keys
	return out.encode(), &keys, nil
}

// encryptChipAuthData returns A_IC = E(KSenc, CA_IC) with IV = E(KSenc, −1)
// and padding method 2 (9303-11 §4.4.3.5).
func (c *Card) encryptChipAuthData(r *cardRun) ([]byte, error) {
	ca := c.key.chipAuthData(r.skMap)
	defer clear(ca)
	padded := sm.Pad(ca, aesBlock)
	defer clear(padded)
	iv, err := camIV(r.keys.Enc)
	if err != nil {
		return nil, err
	}
	return sm.EncryptCBC(sm.AES, r.keys.Enc, iv, padded)
}
