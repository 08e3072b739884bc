package group

import "errors"

var (
	// ErrInvalidPoint means an encoded point failed validation (TR-03111
	// §3.2.2.1): a bad format or length, a coordinate not below p, not on
	// the curve, or the point at infinity where a public key is expected.
	ErrInvalidPoint = errors.New("group: invalid point")

	// ErrSignature means an ECDSA signature does not verify, or is not a
	// well-formed signature for the key's curve (r or s out of [1, n−1], a
	// DER encoding that is not strict, a plain signature of the wrong
	// length).
	ErrSignature = errors.New("group: invalid signature")
)
