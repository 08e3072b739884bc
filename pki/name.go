package pki

import (
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Name is an X.501 distinguished name (RFC 5280 §4.1.2.4), the subject or
// issuer of a certificate.
type Name struct {
	// RDNs are the relative distinguished names in encoding order (for
	// eMRTD certificates usually C first), each a set of attributes.
	RDNs [][]Attribute
	// Raw is the DER Name.
	Raw []byte
}

// Attribute is one AttributeTypeAndValue of a [Name].
type Attribute struct {
	// Type is the attribute type, such as 2.5.4.6 (countryName).
	Type asn1.ObjectIdentifier
	// Value is the decoded string value; a value of another ASN.1 type is
	// "#" followed by the hex of its DER (RFC 4514 §2.4).
	Value string
}

var (
	oidCountry    = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidCommonName = asn1.ObjectIdentifier{2, 5, 4, 3}
)

// attributeNames are the short names of RFC 4514 §3 and the serialNumber
// that CSCA names often hold.
var attributeNames = []struct {
	oid  asn1.ObjectIdentifier
	name string
}{
	{oidCountry, "C"}, {oidCommonName, "CN"}, {asn1.ObjectIdentifier{2, 5, 4, 10}, "O"},
	{asn1.ObjectIdentifier{2, 5, 4, 11}, "OU"}, {asn1.ObjectIdentifier{2, 5, 4, 7}, "L"},
	{asn1.ObjectIdentifier{2, 5, 4, 8}, "ST"}, {asn1.ObjectIdentifier{2, 5, 4, 5}, "serialNumber"},
}

// first returns the value of the first attribute of the type.
func (n Name) first(oid asn1.ObjectIdentifier) string {
	for _, rdn := range n.RDNs {
		for _, a := range rdn {
			if a.Type.Equal(oid) {
				return a.Value
			}
		}
	}
	return ""
}

// Country returns the countryName (the issuing State of a CSCA or DS
// certificate, 9303-12 §7.1.1), upper-cased, or "" when there is none.
func (n Name) Country() string { return strings.ToUpper(n.first(oidCountry)) }

// CommonName returns the first commonName, or "".
func (n Name) CommonName() string { return n.first(oidCommonName) }

// String returns the name as "C=DE,O=bund,OU=bsi,CN=csca-germany": in
// encoding order (not reversed as RFC 4514 writes it, since eMRTD names are
// read C first), with ',' and '+' escaped in values.
func (n Name) String() string {
	var sb strings.Builder
	for i, rdn := range n.RDNs {
		if i > 0 {
			sb.WriteByte(',')
		}
		for j, a := range rdn {
			if j > 0 {
				sb.WriteByte('+')
			}
			sb.WriteString(attributeName(a.Type))
			sb.WriteByte('=')
			sb.WriteString(escapeValue(a.Value))
		}
	}
	return sb.String()
}

// MarshalText returns the name as String does.
func (n Name) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

func attributeName(oid asn1.ObjectIdentifier) string {
	for _, a := range attributeNames {
		if a.oid.Equal(oid) {
			return a.name
		}
	}
	return oid.String()
}

func escapeValue(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `,`, `\,`, `+`, `\+`, `=`, `\=`)
	return r.Replace(v)
}

// Key returns a canonical form of the name for matching and indexing: a
// DS certificate's issuer and its CSCA's subject are the same name but not
// always the same bytes (PrintableString against UTF8String, case). It
// compares attribute types exactly and values case-insensitively with
// white space folded, the string matching of RFC 5280 §7.1 without its
// full Unicode preparation.
func (n Name) Key() string {
	var sb strings.Builder
	for _, rdn := range n.RDNs {
		sb.WriteByte('/')
		for j, a := range rdn {
			if j > 0 {
				sb.WriteByte('+')
			}
			sb.WriteString(a.Type.String())
			sb.WriteByte('=')
			sb.WriteString(strings.ToLower(strings.Join(strings.Fields(a.Value), " ")))
		}
	}
	return sb.String()
}

// Equal reports whether two names match (see [Name.Key]).
func (n Name) Equal(o Name) bool { return n.Key() == o.Key() }

// readName reads a Name (RDNSequence) from s.
func readName(s *cryptobyte.String) (Name, error) {
	var raw, seq cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return Name{}, fmt.Errorf("%w: Name", ErrMalformed)
	}
	outer := raw
	if !outer.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return Name{}, fmt.Errorf("%w: Name", ErrMalformed)
	}
	n := Name{Raw: raw}
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) || set.Empty() {
			return Name{}, fmt.Errorf("%w: RelativeDistinguishedName", ErrMalformed)
		}
		var rdn []Attribute
		for !set.Empty() {
			var atv, val cryptobyte.String
			var a Attribute
			var tag cbasn1.Tag
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&a.Type) ||
				!atv.ReadAnyASN1Element(&val, &tag) || !atv.Empty() {
				return Name{}, fmt.Errorf("%w: AttributeTypeAndValue", ErrMalformed)
			}
			a.Value = decodeString(tag, val)
			rdn = append(rdn, a)
		}
		n.RDNs = append(n.RDNs, rdn)
	}
	return n, nil
}

// decodeString decodes a DirectoryString or another string type of an
// attribute value given as a full element.
func decodeString(tag cbasn1.Tag, elem cryptobyte.String) string {
	var body cryptobyte.String
	if !elem.ReadASN1(&body, tag) {
		return "#" + hex.EncodeToString(elem)
	}
	switch tag {
	case cbasn1.UTF8String, cbasn1.PrintableString, cbasn1.IA5String, cbasn1.Tag(18): // NumericString
		if utf8.Valid(body) {
			return string(body)
		}
	case cbasn1.T61String: // treated as Latin-1, as most software does
		r := make([]rune, len(body))
		for i, b := range body {
			r[i] = rune(b)
		}
		return string(r)
	case cbasn1.Tag(30): // BMPString, UTF-16BE
		if len(body)%2 == 0 {
			u := make([]uint16, len(body)/2)
			for i := range u {
				u[i] = uint16(body[2*i])<<8 | uint16(body[2*i+1])
			}
			return string(utf16.Decode(u))
		}
	case cbasn1.Tag(28): // UniversalString, UTF-32BE
		if len(body)%4 == 0 {
			r := make([]rune, len(body)/4)
			for i := range r {
				r[i] = rune(uint32(body[4*i])<<24 | uint32(body[4*i+1])<<16 | uint32(body[4*i+2])<<8 | uint32(body[4*i+3]))
			}
			return string(r)
		}
	}
	return "#" + hex.EncodeToString(elem)
}
