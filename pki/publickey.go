package pki

import (
	"crypto/rsa"
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/nfcbridge/nfcbridge/group"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// KeyType is the kind of a [PublicKey].
type KeyType uint8

// Key types.
const (
	RSA KeyType = iota + 1 // rsaEncryption or id-RSASSA-PSS (RFC 4055 §1.2)
	EC                     // id-ecPublicKey (RFC 5480 §2.1.1)
)

// String returns "RSA" or "EC".
func (k KeyType) String() string {
	switch k {
	case RSA:
		return "RSA"
	case EC:
		return "EC"
	}
	return fmt.Sprintf("KeyType(%d)", uint8(k))
}

// MarshalText returns the key type's name.
func (k KeyType) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// PublicKey is a parsed SubjectPublicKeyInfo (RFC 5280 §4.1.2.7): an RSA
// key or an EC key on a standardized curve. Exactly one of RSA and EC is
// set, as Type says.
type PublicKey struct {
	// Type is RSA or EC.
	Type KeyType
	// Algorithm is the SubjectPublicKeyInfo's AlgorithmIdentifier.
	Algorithm AlgorithmIdentifier
	// RSA is the key of type RSA.
	RSA *rsa.PublicKey
	// EC is the key of type EC.
	EC *group.PublicKey
	// ExplicitParameters is set when an EC key's domain parameters were
	// given explicitly (and matched a standardized curve) rather than by
	// name.
	ExplicitParameters bool
	// Raw is the DER SubjectPublicKeyInfo.
	Raw []byte
}

// String describes the key without its value: "RSA-2048",
// "EC brainpoolP256r1".
func (k *PublicKey) String() string {
	switch k.Type {
	case RSA:
		return fmt.Sprintf("RSA-%d", k.RSA.N.BitLen())
	case EC:
		return "EC " + k.EC.Curve().Name()
	}
	return "unknown key"
}

// Equal reports whether two keys are the same key, whatever the encoding
// of their parameters: a re-issued CSCA or a link certificate may carry
// the same key once with named and once with explicit parameters.
func (k *PublicKey) Equal(o *PublicKey) bool {
	if k == nil || o == nil || k.Type != o.Type {
		return false
	}
	switch k.Type {
	case RSA:
		return k.RSA.Equal(o.RSA)
	case EC:
		return k.EC.Equal(o.EC)
	}
	return false
}

// ParsePublicKey parses a DER SubjectPublicKeyInfo: a certificate's, or
// DG15's for Active Authentication (9303-11 §6.1). RSA keys may have NULL
// or absent parameters; EC keys a named curve or explicit parameters equal
// to a standardized curve. Anything else is [ErrUnsupported].
func ParsePublicKey(spki []byte) (*PublicKey, error) {
	s := cryptobyte.String(spki)
	k, err := readPublicKey(&s)
	if err != nil {
		return nil, err
	}
	if !s.Empty() {
		return nil, fmt.Errorf("%w: data after the SubjectPublicKeyInfo", ErrMalformed)
	}
	return k, nil
}

func readPublicKey(s *cryptobyte.String) (*PublicKey, error) {
	var raw, body cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: SubjectPublicKeyInfo", ErrMalformed)
	}
	outer := raw
	if !outer.ReadASN1(&body, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: SubjectPublicKeyInfo", ErrMalformed)
	}
	alg, err := readAlgorithm(&body)
	if err != nil {
		return nil, err
	}
	var bits asn1.BitString
	if !body.ReadASN1BitString(&bits) || !body.Empty() || bits.BitLength%8 != 0 {
		return nil, fmt.Errorf("%w: subjectPublicKey", ErrMalformed)
	}
	k := &PublicKey{Algorithm: alg, Raw: raw}
	switch {
	case alg.Algorithm.Equal(oidRSAEncryption):
		if !nullOrAbsent(alg.Parameters) {
			return nil, fmt.Errorf("%w: rsaEncryption parameters", ErrMalformed)
		}
		k.Type = RSA
		k.RSA, err = parseRSAKey(bits.Bytes)
	case alg.Algorithm.Equal(oidRSASSAPSS):
		if _, err = parsePSSParams(alg.Parameters); err == nil {
			k.Type = RSA
			k.RSA, err = parseRSAKey(bits.Bytes)
		}
	case alg.Algorithm.Equal(oidECPublicKey):
		k.Type = EC
		var c *group.Curve
		if c, k.ExplicitParameters, err = parseECDomain(alg.Parameters); err == nil {
			if k.EC, err = group.NewPublicKey(c, bits.Bytes); err != nil {
				err = fmt.Errorf("%w: EC public key: %w", ErrMalformed, err)
			}
		}
	default:
		err = fmt.Errorf("%w: public key algorithm %v", ErrUnsupported, alg.Algorithm)
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// parseRSAKey decodes RSAPublicKey { modulus, publicExponent } (RFC 8017
// §A.1.1).
func parseRSAKey(der []byte) (*rsa.PublicKey, error) {
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	n, e := new(big.Int), new(big.Int)
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1Integer(n) || !seq.ReadASN1Integer(e) || !seq.Empty() {
		return nil, fmt.Errorf("%w: RSAPublicKey", ErrMalformed)
	}
	if n.Sign() <= 0 || n.Bit(0) == 0 || e.Sign() <= 0 || e.Bit(0) == 0 {
		return nil, fmt.Errorf("%w: RSA modulus or exponent", ErrMalformed)
	}
	if !e.IsInt64() || e.Int64() > 1<<31-1 {
		return nil, fmt.Errorf("%w: RSA public exponent above 2^31", ErrUnsupported)
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

// parseECDomain resolves ECParameters (RFC 3279 §2.3.5, RFC 5480 §2.1.1):
// a named curve, or explicit parameters that must be a standardized curve.
// implicitCA (NULL) is refused, since it names no curve.
func parseECDomain(params []byte) (c *group.Curve, explicit bool, err error) {
	s := cryptobyte.String(params)
	switch {
	case s.PeekASN1Tag(cbasn1.OBJECT_IDENTIFIER):
		var oid asn1.ObjectIdentifier
		if !s.ReadASN1ObjectIdentifier(&oid) || !s.Empty() {
			return nil, false, fmt.Errorf("%w: named curve", ErrMalformed)
		}
		c, ok := group.CurveByOID(oid)
		if !ok {
			return nil, false, fmt.Errorf("%w: named curve %v", ErrUnsupported, oid)
		}
		return c, false, nil
	case s.PeekASN1Tag(cbasn1.SEQUENCE):
		c, err := parseExplicitCurve(s)
		return c, true, err
	}
	return nil, false, fmt.Errorf("%w: EC parameters neither a named curve nor explicit", ErrUnsupported)
}

// parseExplicitCurve decodes SpecifiedECDomain (SEC 1 §C.2, TR-03111
// §5.1.1): version 1, a prime field, the coefficients a and b (and an
// optional seed), the encoded base point, the order and an optional
// cofactor, and matches them with [group.MatchExplicit].
func parseExplicitCurve(s cryptobyte.String) (*group.Curve, error) {
	var seq, field, curve cryptobyte.String
	var version int64
	p, n := new(big.Int), new(big.Int)
	var fieldType asn1.ObjectIdentifier
	var a, b, base []byte
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() ||
		!seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&field, cbasn1.SEQUENCE) ||
		!field.ReadASN1ObjectIdentifier(&fieldType) {
		return nil, fmt.Errorf("%w: explicit EC parameters", ErrMalformed)
	}
	if version != 1 {
		return nil, fmt.Errorf("%w: explicit EC parameters version %d", ErrUnsupported, version)
	}
	if !fieldType.Equal(oidPrimeField) {
		return nil, fmt.Errorf("%w: EC field type %v", ErrUnsupported, fieldType)
	}
	if !field.ReadASN1Integer(p) || !field.Empty() ||
		!seq.ReadASN1(&curve, cbasn1.SEQUENCE) ||
		!curve.ReadASN1Bytes(&a, cbasn1.OCTET_STRING) || !curve.ReadASN1Bytes(&b, cbasn1.OCTET_STRING) ||
		!curve.SkipOptionalASN1(cbasn1.BIT_STRING) || !curve.Empty() ||
		!seq.ReadASN1Bytes(&base, cbasn1.OCTET_STRING) ||
		!seq.ReadASN1Integer(n) {
		return nil, fmt.Errorf("%w: explicit EC parameters", ErrMalformed)
	}
	var h *big.Int
	if !seq.Empty() {
		h = new(big.Int)
		if !seq.ReadASN1Integer(h) || !seq.Empty() {
			return nil, fmt.Errorf("%w: explicit EC parameters cofactor", ErrMalformed)
		}
	}
	c, ok := group.MatchExplicit(p, new(big.Int).SetBytes(a), new(big.Int).SetBytes(b), base, n, h)
	if !ok {
		return nil, fmt.Errorf("%w: explicit EC parameters of no standardized curve", ErrUnsupported)
	}
	return c, nil
}
