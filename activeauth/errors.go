package activeauth

import "errors"

// Errors of the parser, [Verify] and [Authenticate]. A chip status word
// error also wraps the icao.StatusWord.
var (
	// ErrMalformed means DG15 is not a tag 6F holding a
	// SubjectPublicKeyInfo, or the chip's response is not a signature of
	// the key's size (a truncated or garbage response). For the verdict it
	// is a failed Active Authentication, like ErrSignature.
	ErrMalformed = errors.New("activeauth: malformed")

	// ErrUnsupported means the key, the 9796-2 hash identifier or the
	// signature algorithm is one this package does not implement; Active
	// Authentication was not checked.
	ErrUnsupported = errors.New("activeauth: unsupported")

	// ErrSignature means the signature does not verify: the chip does not
	// hold the private key of DG15, or it signed another challenge.
	ErrSignature = errors.New("activeauth: signature does not verify")
)
