package pki

import "errors"

// Errors of the parsers and verifiers. Each error returned wraps one of
// them; callers branch with errors.Is.
var (
	// ErrMalformed means the DER is not a well-formed certificate,
	// SubjectPublicKeyInfo or AlgorithmIdentifier (RFC 5280 §4.1).
	ErrMalformed = errors.New("pki: malformed")

	// ErrUnsupported means the input is well formed but uses something this
	// package does not accept: an unknown signature or key algorithm, EC
	// domain parameters that are no standardized curve, a PSS mask
	// generation hash other than the message hash. A verifier reports it as
	// "unsupported", never as valid.
	ErrUnsupported = errors.New("pki: unsupported")

	// ErrSignature means a signature does not verify under the key.
	ErrSignature = errors.New("pki: signature does not verify")

	// ErrKeyMismatch means the key cannot make signatures of the algorithm
	// (an EC key for an RSA signature, or the reverse).
	ErrKeyMismatch = errors.New("pki: key does not match the signature algorithm")

	// ErrNotCA means the issuing certificate may not sign certificates: it
	// is a version 3 certificate without basicConstraints cA, or its
	// keyUsage lacks keyCertSign (RFC 5280 §4.2.1.3, §4.2.1.9; 9303-12
	// §7.1.1).
	ErrNotCA = errors.New("pki: issuer is not a CA")
)

// Errors of CMS SignedData verification (RFC 5652 §5.6).
var (
	// ErrNoSigner means no certificate of the SignedData matches the
	// SignerInfo's issuer and serial number or subject key identifier.
	ErrNoSigner = errors.New("pki: signer certificate not found")

	// ErrDigest means the messageDigest attribute is not the hash of the
	// content, or the contentType attribute is not eContentType.
	ErrDigest = errors.New("pki: signed attributes do not match the content")
)
