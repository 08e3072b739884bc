package pace

import (
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Domain is an AlgorithmIdentifier holding domain parameters, as in a
// PACEDomainParameterInfo or a Chip Authentication public key (9303-11
// §9.5): standardizedDomainParameters with an ID, ecPublicKey with
// explicit ECParameters (or a named curve), or dhpublicnumber with explicit
// DomainParameters.
//
// Explicit domain parameters are never used as such: 9303-11 §9.2.2 forbids
// terminals to use parameters from the chip "unless those domain parameters
// are explicitly known to be secure". They are recognized when they equal
// one of the standardized sets, and unsupported otherwise.
type Domain struct {
	// Algorithm is the AlgorithmIdentifier's OID.
	Algorithm asn1.ObjectIdentifier
	// ID is the standardized domain parameter ID (9303-11 §9.5.1) these
	// parameters reference or are equal to, or NoParameterID.
	ID int
	// Raw is the DER AlgorithmIdentifier.
	Raw []byte
}

// parseDomain decodes an AlgorithmIdentifier. Parameters it cannot parse or
// does not recognize give ID NoParameterID, not an error; only a broken
// AlgorithmIdentifier structure is an error.
func parseDomain(o tlv.Object) (Domain, error) {
	el, err := elements(o, tagSequence)
	if err != nil {
		return Domain{}, err
	}
	if len(el) == 0 || len(el) > 2 {
		return Domain{}, fmt.Errorf("%w: AlgorithmIdentifier of %d elements", ErrMalformed, len(el))
	}
	alg, err := parseOID(el[0])
	if err != nil {
		return Domain{}, err
	}
	d := Domain{Algorithm: alg, ID: NoParameterID, Raw: o.Raw}
	if len(el) == 2 {
		d.ID = domainID(alg, el[1])
	}
	return d, nil
}

// domainID recognizes the parameters of an AlgorithmIdentifier.
func domainID(alg asn1.ObjectIdentifier, params tlv.Object) int {
	switch {
	case alg.Equal(oidStandardized):
		if id, err := parseSmallInt(params); err == nil {
			if _, ok := standardGroup(id); ok {
				return id
			}
		}
	case alg.Equal(oidECPublicKey) && params.Tag == tagOID:
		if oid, err := parseOID(params); err == nil {
			if c, ok := group.CurveByOID(oid); ok {
				return c.ID()
			}
		}
	case alg.Equal(oidECPublicKey):
		if c, err := parseECParameters(params); err == nil {
			return c.ID()
		}
	case alg.Equal(oidDHPublicNumber):
		if d, err := parseDHParameters(params); err == nil {
			return d.ID()
		}
	}
	return NoParameterID
}

// parseECParameters decodes explicit ECParameters (SEC 1 §C.2, TR-03111
// §5.1.1): version 1, a prime field, the coefficients a and b (and an
// optional seed), an encoded base point, the order and an optional
// cofactor, and returns the standardized curve they equal.
func parseECParameters(o tlv.Object) (*group.Curve, error) {
	el, err := elements(o, tagSequence)
	if err != nil {
		return nil, err
	}
	if len(el) < 5 || len(el) > 6 {
		return nil, fmt.Errorf("%w: ECParameters of %d elements", ErrMalformed, len(el))
	}
	if v, err := parseSmallInt(el[0]); err != nil || v != 1 {
		return nil, fmt.Errorf("%w: ECParameters version", ErrMalformed)
	}
	p, err := parsePrimeField(el[1])
	if err != nil {
		return nil, err
	}
	a, b, err := parseCurveCoefficients(el[2], p)
	if err != nil {
		return nil, err
	}
	if el[3].Tag != tagOctetString {
		return nil, fmt.Errorf("%w: ECParameters base point", ErrMalformed)
	}
	n, err := parseUint(el[4])
	if err != nil {
		return nil, err
	}
	var h *big.Int
	if len(el) == 6 {
		if h, err = parseUint(el[5]); err != nil {
			return nil, err
		}
	}
	c, ok := group.MatchExplicit(p, a, b, el[3].Value, n, h)
	if !ok {
		return nil, fmt.Errorf("%w: explicit EC parameters of no standardized curve", ErrNotSupported)
	}
	return c, nil
}

// parsePrimeField decodes FieldID { prime-field, p }.
func parsePrimeField(o tlv.Object) (*big.Int, error) {
	el, err := elements(o, tagSequence)
	if err != nil {
		return nil, err
	}
	if len(el) != 2 {
		return nil, fmt.Errorf("%w: FieldID of %d elements", ErrMalformed, len(el))
	}
	if oid, err := parseOID(el[0]); err != nil || !oid.Equal(oidPrimeField) {
		return nil, fmt.Errorf("%w: field type is not prime-field", ErrNotSupported)
	}
	p, err := parseUint(el[1])
	if err != nil || p.BitLen() < 2 || p.BitLen() > 1024 {
		return nil, fmt.Errorf("%w: field prime", ErrMalformed)
	}
	return p, nil
}

// parseCurveCoefficients decodes Curve { a, b, seed OPTIONAL }.
func parseCurveCoefficients(o tlv.Object, p *big.Int) (a, b *big.Int, err error) {
	el, err := elements(o, tagSequence)
	if err != nil {
		return nil, nil, err
	}
	if len(el) < 2 || len(el) > 3 || el[0].Tag != tagOctetString || el[1].Tag != tagOctetString {
		return nil, nil, fmt.Errorf("%w: curve coefficients", ErrMalformed)
	}
	a = new(big.Int).SetBytes(el[0].Value)
	b = new(big.Int).SetBytes(el[1].Value)
	return a.Mod(a, p), b.Mod(b, p), nil
}

// parseDHParameters decodes DomainParameters { p, g, q, j OPTIONAL,
// validationParms OPTIONAL } (ANSI X9.42, RFC 3279 §2.3.3) and returns the
// standardized group they equal.
func parseDHParameters(o tlv.Object) (*group.DH, error) {
	el, err := elements(o, tagSequence)
	if err != nil {
		return nil, err
	}
	if len(el) < 3 || len(el) > 5 {
		return nil, fmt.Errorf("%w: DH DomainParameters of %d elements", ErrMalformed, len(el))
	}
	var v [3]*big.Int
	for i := range v {
		if v[i], err = parseUint(el[i]); err != nil {
			return nil, err
		}
	}
	d, ok := group.MatchDH(v[0], v[1], v[2])
	if !ok {
		return nil, fmt.Errorf("%w: DH parameters of no standardized group", ErrNotSupported)
	}
	return d, nil
}
