package pki

import (
	"time"
)

// Status is the outcome of a trust check, as the passive authentication
// result reports it (9303-11 §5.1: signature, chain, revocation).
type Status string

// Statuses of [Store.VerifyDS] and [VerifySOD].
const (
	// StatusValid: the signature verifies and the signer chains to a
	// trusted CSCA, every certificate valid at the time judged.
	StatusValid Status = "valid"
	// StatusInvalid: a signature does not verify, a signed attribute
	// contradicts the content, an issuer is no CA, or the data are
	// malformed.
	StatusInvalid Status = "invalid"
	// StatusNoTrustAnchor: nothing chains the signer to a loaded CSCA.
	StatusNoTrustAnchor Status = "no_trust_anchor"
	// StatusExpired and StatusNotYetValid: a certificate of the chain was
	// not valid at the time judged.
	StatusExpired     Status = "expired"
	StatusNotYetValid Status = "not_yet_valid"
	// StatusRevoked: a loaded CRL, signed by the CSCA, lists the DS.
	StatusRevoked Status = "revoked"
	// StatusUnsupported: an algorithm or curve this package cannot
	// verify; never taken as valid.
	StatusUnsupported Status = "unsupported"
	// StatusCountryMismatch: the DS, its CSCA and the MRZ name different
	// issuing States.
	StatusCountryMismatch Status = "country_mismatch"
)

// MarshalText returns the status as JSON and logs show it.
func (s Status) MarshalText() ([]byte, error) { return []byte(s), nil }

// TimeSource says at which time certificate validity was judged.
type TimeSource string

// Time sources.
const (
	// SigningTime: the signingTime signed attribute of the SignedData,
	// so that a document signed while its DS was valid stays valid
	// (9303-12 §7.1.2: a DS signs for a few months, documents last ten
	// years).
	SigningTime TimeSource = "signing_time"
	// CheckTime: the time of the check, for SignedData without
	// signingTime.
	CheckTime TimeSource = "check_time"
)

// MarshalText returns the source's name.
func (t TimeSource) MarshalText() ([]byte, error) { return []byte(t), nil }

// CertificateInfo summarises a certificate for reports and JSON.
type CertificateInfo struct {
	Subject      Name      `json:"subject"`
	Issuer       Name      `json:"issuer"`
	Country      string    `json:"country,omitempty"`
	SerialNumber string    `json:"serialNumber"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	// Key describes the public key ("RSA-2048", "EC brainpoolP256r1").
	Key string `json:"key"`
	// Algorithm is the signature algorithm of the certificate's issuer.
	Algorithm string `json:"algorithm"`
}

// Info returns the certificate's summary.
func (c *Certificate) Info() *CertificateInfo {
	if c == nil {
		return nil
	}
	return &CertificateInfo{
		Subject: c.Subject, Issuer: c.Issuer, Country: c.Subject.Country(),
		SerialNumber: c.SerialNumber.Text(16), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		Key: c.PublicKey.String(), Algorithm: c.SignatureAlgorithm.String(),
	}
}

// Result is the outcome of [Store.VerifyDS].
type Result struct {
	Status Status `json:"status"`
	// Reason says in words why, for operators and logs; it holds
	// certificate names, never document data.
	Reason string `json:"reason,omitempty"`
	// ValidityTime is when certificate validity was judged, and
	// ValidityTimeSource why that time.
	ValidityTime       time.Time        `json:"validityTime"`
	ValidityTimeSource TimeSource       `json:"validityTimeSource"`
	DocumentSigner     *CertificateInfo `json:"documentSigner,omitempty"`
	CSCA               *CertificateInfo `json:"csca,omitempty"`
	// Chain is the DS's issuers, its CSCA (or link certificate) first and
	// the self-signed trust anchor last; nil when none was found.
	Chain []*Certificate `json:"-"`
}
