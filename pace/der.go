package pace

import (
	"encoding/asn1"
	"fmt"
	"math/big"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// ASN.1 universal tags used by SecurityInfos (ITU-T X.690).
const (
	tagInteger     tlv.Tag = 0x02
	tagBitString   tlv.Tag = 0x03
	tagOctetString tlv.Tag = 0x04
	tagOID         tlv.Tag = 0x06
	tagSequence    tlv.Tag = 0x30
	tagSet         tlv.Tag = 0x31
)

// maxElements bounds the objects read from one constructed value, and
// maxInfos the SecurityInfos in one SET, so that hostile input cannot make a
// parser build large slices.
const (
	maxElements = 16
	maxInfos    = 256
)

// elements decodes a constructed object with the given tag and returns its
// children.
func elements(o tlv.Object, tag tlv.Tag) ([]tlv.Object, error) {
	if o.Tag != tag {
		return nil, fmt.Errorf("%w: tag %v where %v was expected", ErrMalformed, o.Tag, tag)
	}
	limit := maxElements
	if tag == tagSet {
		limit = maxInfos
	}
	children, err := tlv.Children(o.Value, limit)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return children, nil
}

// parseOID decodes an OBJECT IDENTIFIER object.
func parseOID(o tlv.Object) (asn1.ObjectIdentifier, error) {
	if o.Tag != tagOID {
		return nil, fmt.Errorf("%w: tag %v where an object identifier was expected", ErrMalformed, o.Tag)
	}
	var oid asn1.ObjectIdentifier
	rest, err := asn1.Unmarshal(tlv.Encode(tagOID, o.Value), &oid)
	if err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: bad object identifier", ErrMalformed)
	}
	return oid, nil
}

// parseSmallInt decodes a non-negative INTEGER below 2^31.
func parseSmallInt(o tlv.Object) (int, error) {
	v, err := parseUint(o)
	if err != nil {
		return 0, err
	}
	if v.BitLen() > 31 {
		return 0, fmt.Errorf("%w: integer too large", ErrMalformed)
	}
	return int(v.Int64()), nil
}

// parseUint decodes a non-negative INTEGER. Leading zero bytes are
// accepted (BER), a negative value is not.
func parseUint(o tlv.Object) (*big.Int, error) {
	switch {
	case o.Tag != tagInteger:
		return nil, fmt.Errorf("%w: tag %v where an integer was expected", ErrMalformed, o.Tag)
	case len(o.Value) == 0:
		return nil, fmt.Errorf("%w: empty integer", ErrMalformed)
	case o.Value[0]&0x80 != 0:
		return nil, fmt.Errorf("%w: negative integer", ErrMalformed)
	case len(o.Value) > 1024:
		return nil, fmt.Errorf("%w: integer of %d bytes", ErrMalformed, len(o.Value))
	}
	return new(big.Int).SetBytes(o.Value), nil
}

// appendOID appends the DER encoding of oid; the OIDs passed here are
// this package's constants or were parsed, so they encode.
func appendOID(dst []byte, oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		return dst
	}
	return append(dst, b...)
}

// appendInt appends the DER encoding of a non-negative INTEGER.
func appendInt(dst []byte, v *big.Int) []byte {
	b := v.Bytes()
	if len(b) == 0 || b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return tlv.Append(dst, tagInteger, b)
}

// appendSmallInt appends the DER encoding of a non-negative int.
func appendSmallInt(dst []byte, v int) []byte {
	return appendInt(dst, big.NewInt(int64(v)))
}
