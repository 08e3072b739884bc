package icao

import (
	"encoding/asn1"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// berFields walks the fields of a constructed BER value in order, the way
// an ASN.1 SEQUENCE is read: required fields with expect, OPTIONAL ones
// with optional. Errors name the file and field, never content.
type berFields struct {
	rest []byte
	file string
}

func fieldsOf(value []byte, file string) *berFields { return &berFields{rest: value, file: file} }

// expect decodes the next field, which must have the given tag.
func (f *berFields) expect(tag tlv.Tag, what string) (tlv.Object, error) {
	if len(f.rest) == 0 {
		return tlv.Object{}, malformed(f.file, "missing "+what)
	}
	o, rest, err := tlv.Next(f.rest)
	if err != nil {
		return tlv.Object{}, malformedTLV(f.file, err)
	}
	if o.Tag != tag {
		return tlv.Object{}, malformed(f.file, what+": tag "+o.Tag.String()+" where "+tag.String()+" was expected")
	}
	f.rest = rest
	return o, nil
}

// optional decodes the next field if it has the given tag.
func (f *berFields) optional(tag tlv.Tag) (tlv.Object, bool, error) {
	if len(f.rest) == 0 {
		return tlv.Object{}, false, nil
	}
	o, rest, err := tlv.Next(f.rest)
	if err != nil {
		return tlv.Object{}, false, malformedTLV(f.file, err)
	}
	if o.Tag != tag {
		return tlv.Object{}, false, nil
	}
	f.rest = rest
	return o, true, nil
}

// only decodes value as exactly one data object with the given tag.
func only(value []byte, tag tlv.Tag, file string) (tlv.Object, error) {
	o, err := tlv.DecodeExpect(value, tag)
	if err != nil {
		return tlv.Object{}, malformedTLV(file, err)
	}
	return o, nil
}

// find returns the first object with the given tag, or nil.
func find(objs []tlv.Object, tag tlv.Tag) *tlv.Object {
	for i := range objs {
		if objs[i].Tag == tag {
			return &objs[i]
		}
	}
	return nil
}

// berUint decodes the content of a non-negative INTEGER or ENUMERATED
// below 2^31. A leading zero byte is tolerated, as BER writers emit one.
func berUint(v []byte) (int, bool) {
	if len(v) == 0 || v[0]&0x80 != 0 {
		return 0, false
	}
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > 4 || len(v) == 4 && v[0]&0x80 != 0 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		n = n<<8 | int(c)
	}
	return n, true
}

// appendUint appends a data object holding the minimal two's complement
// encoding of the non-negative n.
func appendUint(dst []byte, tag tlv.Tag, n int) []byte {
	var v []byte
	for x := n; ; x >>= 8 {
		v = append([]byte{byte(x)}, v...)
		if x < 0x80 {
			break
		}
	}
	return tlv.Append(dst, tag, v)
}

// berOID decodes an OBJECT IDENTIFIER data object.
func berOID(o tlv.Object, file, what string) (asn1.ObjectIdentifier, error) {
	var oid asn1.ObjectIdentifier
	if o.Tag != 0x06 || len(o.Value) == 0 || len(o.Value) > 64 {
		return nil, malformed(file, what+" is not an object identifier")
	}
	if _, err := asn1.Unmarshal(tlv.Encode(0x06, o.Value), &oid); err != nil {
		return nil, malformed(file, what+" is not an object identifier")
	}
	return oid, nil
}

// berOctets returns the content of an OCTET STRING, joining the segments
// of a constructed one (X.690 §8.7.3), as some signers write eContent.
func berOctets(o tlv.Object, file string, depth int) ([]byte, error) {
	switch {
	case o.Tag == 0x04:
		return o.Value, nil
	case o.Tag != 0x24:
		return nil, malformed(file, "tag "+o.Tag.String()+" where an OCTET STRING was expected")
	case depth >= 8:
		return nil, malformed(file, "OCTET STRING segments nested too deep")
	}
	parts, err := tlv.Children(o.Value, 1<<16)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	var out []byte
	for _, p := range parts {
		b, err := berOctets(p, file, depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// toDER re-encodes a BER data object with definite, minimal lengths,
// recursing into constructed objects. It is how signed attributes received
// with indefinite lengths are turned back into the DER that was signed
// (RFC 5652 §5.4). DER input comes out unchanged.
func toDER(o tlv.Object, depth int) ([]byte, error) {
	if !o.Tag.Constructed() {
		return tlv.Encode(o.Tag, o.Value), nil
	}
	if depth >= 16 {
		return nil, malformed("EF.SOD", "signed attributes nested too deep")
	}
	children, err := tlv.Children(o.Value, 1<<16)
	if err != nil {
		return nil, malformedTLV("EF.SOD", err)
	}
	var v []byte
	for _, c := range children {
		b, err := toDER(c, depth+1)
		if err != nil {
			return nil, err
		}
		v = append(v, b...)
	}
	return tlv.Encode(o.Tag, v), nil
}
