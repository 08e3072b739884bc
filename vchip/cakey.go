package vchip

import (
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"slices"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/sm"
)

// ErrCAKey is wrapped by the errors about a [CAKey]; they never hold the
// key.
var ErrCAKey = errors.New("vchip: invalid chip authentication key")

// CAKey is a chip's static key for Chip Authentication (9303-11 §6.2): the
// big-endian private value on standardized domain parameters (9303-11
// §9.5.1: 0–2 MODP groups for DH, 8–18 curves for ECDH). Its public key
// goes into DG14 and EF.CardSecurity ([CAKey.PublicKeyInfo]); a real chip
// never gives the private part away, a specimen keeps it in chip.json.
//
// CAKey has no String method; it logs and formats as "redacted".
type CAKey struct {
	// ParameterID is the standardized domain parameter ID.
	ParameterID int
	// KeyID is the keyId of the key's infos, or chipauth.NoKeyID.
	KeyID int
	// Private is the private value, big-endian, in [1, q−1] (n−1 on a
	// curve).
	Private []byte
}

// LogValue keeps the key out of structured logs.
func (CAKey) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb.
func (CAKey) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// caDomain is the group of a CA key: a curve or a MODP group.
type caDomain struct {
	curve *group.Curve
	dh    *group.DH
}

func domainOf(id int) (caDomain, error) {
	if c, ok := group.CurveByID(id); ok {
		return caDomain{curve: c}, nil
	}
	if d, ok := group.DHByID(id); ok {
		return caDomain{dh: d}, nil
	}
	return caDomain{}, fmt.Errorf("%w: domain parameters %d are not standardized", ErrCAKey, id)
}

// order is n for a curve, q for a MODP group.
func (d caDomain) order() *big.Int {
	if d.curve != nil {
		return d.curve.Params().N
	}
	return d.dh.Q()
}

// agreement returns the key agreement of the domain.
func (d caDomain) agreement() chipauth.KeyAgreement {
	if d.curve != nil {
		return chipauth.ECDH
	}
	return chipauth.DH
}

// GenerateCAKey returns a new random key on the standardized domain
// parameters, uniform in [1, n−1]. keyID may be chipauth.NoKeyID. A nil r
// means crypto/rand.Reader.
func GenerateCAKey(parameterID, keyID int, r io.Reader) (*CAKey, error) {
	d, err := domainOf(parameterID)
	if err != nil {
		return nil, err
	}
	sk, err := group.RandomScalar(r, d.order())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAKey, err)
	}
	return &CAKey{ParameterID: parameterID, KeyID: keyID, Private: sk.Bytes()}, nil
}

// parse checks the key and returns its domain and private value.
func (k *CAKey) parse() (caDomain, *big.Int, error) {
	d, err := domainOf(k.ParameterID)
	if err != nil {
		return caDomain{}, nil, err
	}
	sk := new(big.Int).SetBytes(k.Private)
	if sk.Sign() == 0 || sk.Cmp(d.order()) >= 0 {
		return caDomain{}, nil, fmt.Errorf("%w: private value out of range", ErrCAKey)
	}
	if k.KeyID < chipauth.NoKeyID {
		return caDomain{}, nil, fmt.Errorf("%w: negative keyId", ErrCAKey)
	}
	return d, sk, nil
}

// publicKey returns the subjectPublicKey content: an uncompressed point
// for ECDH, the DER INTEGER of the public value for DH (9303-11 §9.4.1).
func (d caDomain) publicKey(sk *big.Int) ([]byte, error) {
	if d.curve != nil {
		return d.curve.Marshal(d.curve.ScalarBaseMult(sk)), nil
	}
	return asn1.Marshal(new(big.Int).Exp(d.dh.G(), sk, d.dh.P()))
}

// oidStandardizedDomain is standardizedDomainParameters (BSI TR-03110-3
// §A.2.1.1), the algorithm of a key on standardized domain parameters.
var oidStandardizedDomain = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 2}

// oidPK is id-PK (9303-11 §9.2.6); a key's protocol is id-PK.{1 DH, 2 ECDH}.
var oidPK = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 2, 2, 1}

// PublicKeyInfo returns the DER ChipAuthenticationPublicKeyInfo of the key
// (9303-11 §9.2.6): id-PK-DH or id-PK-ECDH, a SubjectPublicKeyInfo with
// standardizedDomainParameters, and the keyId when there is one.
func (k *CAKey) PublicKeyInfo() ([]byte, error) {
	d, sk, err := k.parse()
	if err != nil {
		return nil, err
	}
	pub, err := d.publicKey(sk)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCAKey, err)
	}
	alg, err := derSeq(oidStandardizedDomain, k.ParameterID)
	if err != nil {
		return nil, err
	}
	spki := tlv.Encode(0x30, append(alg, tlv.Encode(0x03, append([]byte{0}, pub...))...))
	body, err := derConcat(append(slices.Clone(oidPK), int(d.agreement())))
	if err != nil {
		return nil, err
	}
	body = append(body, spki...)
	if k.KeyID != chipauth.NoKeyID {
		id, err := derConcat(k.KeyID)
		if err != nil {
			return nil, err
		}
		body = append(body, id...)
	}
	return tlv.Encode(0x30, body), nil
}

// Info returns the DER ChipAuthenticationInfo (9303-11 §9.2.5) of the key
// for the cipher: id-CA-{DH,ECDH}-cipher, version 1, the keyId when there
// is one.
func (k *CAKey) Info(c chipauth.Cipher) ([]byte, error) {
	d, _, err := k.parse()
	if err != nil {
		return nil, err
	}
	vals := []any{chipauth.Protocol{KeyAgreement: d.agreement(), Cipher: c}.OID(), 1}
	if k.KeyID != chipauth.NoKeyID {
		vals = append(vals, k.KeyID)
	}
	return derSeq(vals...)
}

// derConcat encodes each value and concatenates the encodings.
func derConcat(vs ...any) ([]byte, error) {
	var out []byte
	for _, v := range vs {
		b, err := asn1.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("vchip: encode: %w", err)
		}
		out = append(out, b...)
	}
	return out, nil
}

// derSeq encodes a SEQUENCE of the values.
func derSeq(vs ...any) ([]byte, error) {
	body, err := derConcat(vs...)
	if err != nil {
		return nil, err
	}
	return tlv.Encode(0x30, body), nil
}

// agree computes the shared secret with the terminal's ephemeral public
// key (9303-11 §6.2.1 step 3) and derives the session keys for the
// cipher (§9.7.1). An invalid terminal key is an error: the chip answers
// 6A80.
func (k *CAKey) agree(pub []byte, c chipauth.Cipher) (sm.Keys, error) {
	d, sk, err := k.parse()
	if err != nil {
		return sm.Keys{}, err
	}
	var secret []byte
	if d.curve != nil {
		pt, err := d.curve.Unmarshal(pub)
		if err != nil {
			return sm.Keys{}, fmt.Errorf("%w: terminal key: %w", ErrCAKey, err)
		}
		z := d.curve.ScalarMult(pt, sk)
		if z.Infinity() {
			return sm.Keys{}, fmt.Errorf("%w: shared point is infinity", ErrCAKey)
		}
		secret = d.curve.FieldBytes(z.X)
	} else {
		y := new(big.Int).SetBytes(pub)
		p, one := d.dh.P(), big.NewInt(1)
		if y.Cmp(one) <= 0 || y.Cmp(new(big.Int).Sub(p, one)) >= 0 || new(big.Int).Exp(y, d.dh.Q(), p).Cmp(one) != 0 {
			return sm.Keys{}, fmt.Errorf("%w: terminal DH value", ErrCAKey)
		}
		secret = new(big.Int).Exp(y, sk, p).FillBytes(make([]byte, d.dh.Size()))
	}
	defer clear(secret)
	return chipauth.SessionKeys(c, secret)
}
