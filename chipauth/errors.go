package chipauth

import "errors"

// Errors of [Choose] and [Authenticate]. An error from a chip status word
// also wraps the icao.StatusWord, so errors.As can log it.
var (
	// ErrNoKey means the SecurityInfos hold no Chip Authentication public
	// key this package can use: the chip does not offer Chip
	// Authentication (report "not supported"), or only with domain
	// parameters that are not standardized.
	ErrNoKey = errors.New("chipauth: no usable chip authentication key")

	// ErrNotSupported means the chip refused the protocol or key at
	// MSE:Set (6A80, 6A88, 6D00 and the like), or the method does not fit
	// the cipher.
	ErrNotSupported = errors.New("chipauth: protocol not supported")

	// ErrInvalidKey means the chip's static public key failed validation:
	// not on the curve, the point at infinity, or a DH value out of range
	// or outside the prime-order subgroup.
	ErrInvalidKey = errors.New("chipauth: invalid public key")

	// ErrMalformed means the chip's answer to GENERAL AUTHENTICATE is not
	// the empty dynamic authentication data 7C 00.
	ErrMalformed = errors.New("chipauth: malformed response")
)
