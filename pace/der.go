package pace

import (
	"encoding/asn1"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

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

// derOID returns the DER OBJECT IDENTIFIER of oid, nil if it does not
// encode (fewer than two arcs, a first arc above 2).
func derOID(oid asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1ObjectIdentifier(oid)
	der, err := b.Bytes()
	if err != nil {
		return nil
	}
	return der
}

// addStandardDomain adds the AlgorithmIdentifier
// standardizedDomainParameters with the ID (9303-11 §9.5.1).
func addStandardDomain(b *cryptobyte.Builder, id int) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidStandardized)
		b.AddASN1Int64(int64(id))
	})
}
