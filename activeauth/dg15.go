package activeauth

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/pki"
)

// ParseDG15 parses EF.DG15 (9303-10 §4.7.15): the Active Authentication
// public key, a SubjectPublicKeyInfo in an application tag 6F. RSA keys and
// EC keys with named or explicit parameters of a standardized curve are
// accepted (pki.ParsePublicKey). Trailing 00 or FF padding is ignored.
func ParseDG15(b []byte) (*pki.PublicKey, error) {
	o, rest, err := tlv.Next(b)
	if err != nil || o.Tag != 0x6F {
		return nil, fmt.Errorf("activeauth: parse DG15: %w: no tag 6F", ErrMalformed)
	}
	if len(bytes.Trim(rest, "\x00")) != 0 && len(bytes.Trim(rest, "\xff")) != 0 {
		return nil, fmt.Errorf("activeauth: parse DG15: %w: %d bytes after the data group", ErrMalformed, len(rest))
	}
	k, err := pki.ParsePublicKey(bytes.Clone(o.Value))
	switch {
	case errors.Is(err, pki.ErrUnsupported):
		return nil, fmt.Errorf("activeauth: parse DG15: %w: %w", ErrUnsupported, err)
	case err != nil:
		return nil, fmt.Errorf("activeauth: parse DG15: %w: %w", ErrMalformed, err)
	}
	return k, nil
}

// Signature algorithm OIDs an ActiveAuthenticationInfo may name: X9.62
// ecdsa-with-SHA* (RFC 5758 §3.2, RFC 3279 §2.2.3) and BSI TR-03111 §5.2.1
// ecdsa-plain-SHA*.
var hashByOID = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, crypto.SHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, crypto.SHA224},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, crypto.SHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, crypto.SHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, crypto.SHA512},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 1}, crypto.SHA1},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 2}, crypto.SHA224},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}, crypto.SHA256},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 4}, crypto.SHA384},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 5}, crypto.SHA512},
}

// HashForAlgorithm returns the hash of the ECDSA signature algorithm that
// the signatureAlgorithm of an ActiveAuthenticationInfo names (9303-11
// §9.2), or [ErrUnsupported].
func HashForAlgorithm(oid asn1.ObjectIdentifier) (crypto.Hash, error) {
	for _, h := range hashByOID {
		if h.oid.Equal(oid) {
			return h.hash, nil
		}
	}
	return 0, fmt.Errorf("%w: signature algorithm %v", ErrUnsupported, oid)
}
