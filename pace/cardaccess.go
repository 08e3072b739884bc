package pace

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"slices"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// SecurityInfos is the content of EF.CardAccess, EF.CardSecurity's signed
// data and DG14 (9303-11 §9.2): SecurityInfos ::= SET OF SecurityInfo,
// SecurityInfo ::= SEQUENCE { protocol OID, requiredData ANY, optionalData
// ANY OPTIONAL }. The entries this package knows are parsed; the others,
// and known ones it cannot parse, are kept raw in Other (9303-11 §9.2:
// "inspection systems MAY discard any unknown entry").
type SecurityInfos struct {
	PACE        []Info                // PACEInfo, §9.2.1
	PACEDomains []DomainParameterInfo // PACEDomainParameterInfo, §9.2.2
	ChipAuth    []ChipAuthInfo        // ChipAuthenticationInfo, §9.2.5
	ChipKeys    []ChipAuthPublicKey   // ChipAuthenticationPublicKeyInfo, §9.2.6
	ActiveAuth  []ActiveAuthInfo      // ActiveAuthenticationInfo, §9.2
	Other       []RawInfo
}

// ActiveAuthInfo is an ActiveAuthenticationInfo (9303-11 §9.2): DG14
// carries it when Active Authentication uses ECDSA, to name the signature
// algorithm and with it the hash.
type ActiveAuthInfo struct {
	Version int // must be 1
	// SignatureAlgorithm is the OID of the signature algorithm, for
	// example ecdsa-with-SHA256 (BSI TR-03111 §5.2.1).
	SignatureAlgorithm asn1.ObjectIdentifier
}

// DomainParameterInfo is a PACEDomainParameterInfo (9303-11 §9.2.2):
// explicit domain parameters for PACE.
type DomainParameterInfo struct {
	// Protocol is id-PACE-DH-GM, id-PACE-ECDH-GM, id-PACE-DH-IM,
	// id-PACE-ECDH-IM or id-PACE-ECDH-CAM.
	Protocol    asn1.ObjectIdentifier
	Domain      Domain
	ParameterID int // or NoParameterID
}

// ChipAuthInfo is a ChipAuthenticationInfo (9303-11 §9.2.5).
type ChipAuthInfo struct {
	Protocol asn1.ObjectIdentifier // id-CA-DH-* or id-CA-ECDH-*
	Version  int
	KeyID    int // or NoParameterID
}

// ChipAuthPublicKey is a ChipAuthenticationPublicKeyInfo (9303-11 §9.2.6):
// the chip's static public key for Chip Authentication and PACE-CAM.
type ChipAuthPublicKey struct {
	Protocol asn1.ObjectIdentifier // id-PK-DH or id-PK-ECDH
	// Domain is the SubjectPublicKeyInfo's AlgorithmIdentifier.
	Domain Domain
	// PublicKey is the content of the subjectPublicKey BIT STRING: an
	// uncompressed point for ECDH, a DER INTEGER for DH.
	PublicKey []byte
	KeyID     int // or NoParameterID
}

// RawInfo is a SecurityInfo this package does not interpret.
type RawInfo struct {
	Protocol asn1.ObjectIdentifier
	Raw      []byte // the whole DER SecurityInfo
}

// ParseCardAccess parses EF.CardAccess (9303-11 §9.2.11), a DER
// SecurityInfos, and matches each PACEInfo whose parameterId is not a
// standardized one with its PACEDomainParameterInfo (Info.Domain). Trailing
// 00 or FF bytes after the SET, as some chips pad their files, are
// ignored. Values in the result do not alias b.
func ParseCardAccess(b []byte) (*SecurityInfos, error) {
	s, err := ParseSecurityInfos(b)
	if err != nil {
		return nil, err
	}
	for k := range s.PACE {
		s.PACE[k].Domain = s.domainFor(s.PACE[k])
	}
	return s, nil
}

// ParseDG14 parses EF.DG14 (9303-10 §4.7.14): SecurityInfos in an
// application tag 6E.
func ParseDG14(b []byte) (*SecurityInfos, error) {
	o, rest, err := tlv.Next(b)
	if err != nil || o.Tag != 0x6E {
		return nil, fmt.Errorf("pace: parse DG14: %w: no tag 6E", ErrMalformed)
	}
	if !padding(rest) {
		return nil, fmt.Errorf("pace: parse DG14: %w: %d bytes after the data group", ErrMalformed, len(rest))
	}
	return ParseSecurityInfos(o.Value)
}

// ParseSecurityInfos parses a DER SecurityInfos, as found in EF.CardAccess,
// the signed content of EF.CardSecurity and DG14 (inside its tag 6E; see
// [ParseDG14]). Unlike [ParseCardAccess] it leaves Info.Domain nil.
func ParseSecurityInfos(b []byte) (*SecurityInfos, error) {
	b = bytes.Clone(b)
	o, rest, err := tlv.Next(b)
	if err != nil {
		return nil, fmt.Errorf("pace: parse SecurityInfos: %w: %w", ErrMalformed, err)
	}
	if !padding(rest) {
		return nil, fmt.Errorf("pace: parse SecurityInfos: %w: %d bytes after the SET", ErrMalformed, len(rest))
	}
	el, err := elements(o, tagSet)
	if err != nil {
		return nil, fmt.Errorf("pace: parse SecurityInfos: %w", err)
	}
	s := new(SecurityInfos)
	for _, e := range el {
		if err := s.add(e); err != nil {
			return nil, fmt.Errorf("pace: parse SecurityInfos: %w", err)
		}
	}
	return s, nil
}

// padding reports whether b is empty or only 00 or only FF bytes.
func padding(b []byte) bool {
	return len(bytes.Trim(b, "\x00")) == 0 || len(bytes.Trim(b, "\xff")) == 0
}

// add parses one SecurityInfo into s. Only a SecurityInfo that is not a
// SEQUENCE starting with an OID is an error.
func (s *SecurityInfos) add(o tlv.Object) error {
	el, err := elements(o, tagSequence)
	if err != nil {
		return err
	}
	if len(el) == 0 {
		return fmt.Errorf("%w: empty SecurityInfo", ErrMalformed)
	}
	oid, err := parseOID(el[0])
	if err != nil {
		return err
	}
	el = el[1:]
	if s.addKnown(oid, el) {
		return nil
	}
	s.Other = append(s.Other, RawInfo{Protocol: oid, Raw: o.Raw})
	return nil
}

// addKnown parses a SecurityInfo of a known type and reports whether it
// could.
func (s *SecurityInfos) addKnown(oid asn1.ObjectIdentifier, el []tlv.Object) bool {
	switch {
	case isUnder(oid, oidPACE, 2):
		i, err := parsePACEInfo(oid, el)
		if err == nil {
			s.PACE = append(s.PACE, i)
		}
		return err == nil
	case isUnder(oid, oidPACE, 1):
		d, err := parseDomainParameterInfo(oid, el)
		if err == nil {
			s.PACEDomains = append(s.PACEDomains, d)
		}
		return err == nil
	case isUnder(oid, oidCA, 2):
		c, err := parseChipAuthInfo(oid, el)
		if err == nil {
			s.ChipAuth = append(s.ChipAuth, c)
		}
		return err == nil
	case isUnder(oid, oidPK, 1):
		k, err := parseChipAuthPublicKey(oid, el)
		if err == nil {
			s.ChipKeys = append(s.ChipKeys, k)
		}
		return err == nil
	case oid.Equal(oidAA):
		a, err := parseActiveAuthInfo(el)
		if err == nil {
			s.ActiveAuth = append(s.ActiveAuth, a)
		}
		return err == nil
	}
	return false
}

// isUnder reports whether oid is prefix followed by exactly extra arcs.
func isUnder(oid, prefix asn1.ObjectIdentifier, extra int) bool {
	return len(oid) == len(prefix)+extra && slices.Equal(oid[:len(prefix)], prefix)
}

// optionalID decodes an optional trailing INTEGER identifier.
func optionalID(el []tlv.Object) (int, error) {
	switch len(el) {
	case 0:
		return NoParameterID, nil
	case 1:
		return parseSmallInt(el[0])
	}
	return 0, fmt.Errorf("%w: %d extra elements", ErrMalformed, len(el))
}

// parsePACEInfo decodes version and parameterId of a PACEInfo.
func parsePACEInfo(oid asn1.ObjectIdentifier, el []tlv.Object) (Info, error) {
	if len(el) == 0 {
		return Info{}, fmt.Errorf("%w: PACEInfo without version", ErrMalformed)
	}
	v, err := parseSmallInt(el[0])
	if err != nil {
		return Info{}, err
	}
	id, err := optionalID(el[1:])
	if err != nil {
		return Info{}, err
	}
	return Info{Protocol: oid, Version: v, ParameterID: id}, nil
}

func parseDomainParameterInfo(oid asn1.ObjectIdentifier, el []tlv.Object) (DomainParameterInfo, error) {
	if len(el) == 0 {
		return DomainParameterInfo{}, fmt.Errorf("%w: PACEDomainParameterInfo without parameters", ErrMalformed)
	}
	d, err := parseDomain(el[0])
	if err != nil {
		return DomainParameterInfo{}, err
	}
	id, err := optionalID(el[1:])
	if err != nil {
		return DomainParameterInfo{}, err
	}
	return DomainParameterInfo{Protocol: oid, Domain: d, ParameterID: id}, nil
}

func parseChipAuthInfo(oid asn1.ObjectIdentifier, el []tlv.Object) (ChipAuthInfo, error) {
	if len(el) == 0 {
		return ChipAuthInfo{}, fmt.Errorf("%w: ChipAuthenticationInfo without version", ErrMalformed)
	}
	v, err := parseSmallInt(el[0])
	if err != nil {
		return ChipAuthInfo{}, err
	}
	id, err := optionalID(el[1:])
	if err != nil {
		return ChipAuthInfo{}, err
	}
	return ChipAuthInfo{Protocol: oid, Version: v, KeyID: id}, nil
}

// parseActiveAuthInfo decodes version and signatureAlgorithm.
func parseActiveAuthInfo(el []tlv.Object) (ActiveAuthInfo, error) {
	if len(el) != 2 {
		return ActiveAuthInfo{}, fmt.Errorf("%w: ActiveAuthenticationInfo of %d elements", ErrMalformed, len(el)+1)
	}
	v, err := parseSmallInt(el[0])
	if err != nil {
		return ActiveAuthInfo{}, err
	}
	alg, err := parseOID(el[1])
	if err != nil {
		return ActiveAuthInfo{}, err
	}
	return ActiveAuthInfo{Version: v, SignatureAlgorithm: alg}, nil
}

// parseChipAuthPublicKey decodes SubjectPublicKeyInfo and keyId.
func parseChipAuthPublicKey(oid asn1.ObjectIdentifier, el []tlv.Object) (ChipAuthPublicKey, error) {
	if len(el) == 0 {
		return ChipAuthPublicKey{}, fmt.Errorf("%w: ChipAuthenticationPublicKeyInfo without key", ErrMalformed)
	}
	spki, err := elements(el[0], tagSequence)
	if err != nil {
		return ChipAuthPublicKey{}, err
	}
	if len(spki) != 2 || spki[1].Tag != tagBitString || len(spki[1].Value) < 2 || spki[1].Value[0] != 0 {
		return ChipAuthPublicKey{}, fmt.Errorf("%w: SubjectPublicKeyInfo", ErrMalformed)
	}
	d, err := parseDomain(spki[0])
	if err != nil {
		return ChipAuthPublicKey{}, err
	}
	id, err := optionalID(el[1:])
	if err != nil {
		return ChipAuthPublicKey{}, err
	}
	return ChipAuthPublicKey{Protocol: oid, Domain: d, PublicKey: spki[1].Value[1:], KeyID: id}, nil
}

// domainFor finds the explicit domain parameters of a PACEInfo whose
// parameterId is not standardized: the PACEDomainParameterInfo of the same
// key agreement and mapping with the same parameterId, or the only one of
// that protocol when the IDs are absent (9303-11 §9.2.1–2).
func (s *SecurityInfos) domainFor(i Info) *Domain {
	if _, ok := standardGroup(i.ParameterID); ok {
		return nil
	}
	var found *Domain
	for k := range s.PACEDomains {
		d := &s.PACEDomains[k]
		if !slices.Equal(d.Protocol, i.Protocol[:len(i.Protocol)-1]) || d.ParameterID != i.ParameterID {
			continue
		}
		if found != nil {
			return nil // ambiguous
		}
		found = &d.Domain
	}
	return found
}
