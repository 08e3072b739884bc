package pki

import (
	"crypto"
	"errors"
	"fmt"
	"time"
)

// VerifyOptions configure [VerifySOD]. The zero value checks at the
// current time and leaves the MRZ's issuing State unchecked.
type VerifyOptions struct {
	// Now returns the time of the check; nil means time.Now.
	Now func() time.Time
	// IssuingState is the MRZ's issuing State code ("D", "AUT", "NZL"),
	// compared case-insensitively with the certificates' countryName;
	// empty, or a code [CountryAlpha2] does not know, is not checked.
	IssuingState string
}

// Verdict is the passive authentication of an EF.SOD up to its trust
// anchor (9303-11 §5.1 steps 1–3): the SignedData signature and signed
// attributes, the DS chain, revocation and States. The data groups'
// hashes are the caller's to compare with Hashes.
type Verdict struct {
	Result
	// CheckedAt is the time of the check.
	CheckedAt time.Time `json:"checkedAt"`
	// SignatureAlgorithm is the SignerInfo's, as "ecdsa-with-SHA256".
	SignatureAlgorithm string `json:"signatureAlgorithm,omitempty"`
	// SigningTime is the signingTime attribute, zero when absent.
	SigningTime time.Time `json:"signingTime,omitzero"`
	// HashAlgorithm and Hashes are the LDS security object's, set when the
	// signature verified (even if the chain did not).
	HashAlgorithm crypto.Hash    `json:"-"`
	Hashes        map[int][]byte `json:"-"`
	// Signer is the DS certificate that signed, nil when none did.
	Signer *Certificate `json:"-"`
}

// VerifySOD verifies EF.SOD (with or without its 0x77 tag, DER or BER)
// against the store: [SignedData.Verify], then [Store.VerifyDS] at the
// signingTime when EF.SOD has one, else at the time of the check, then
// the MRZ's issuing State against the DS. A nil store has no anchors.
func VerifySOD(sod []byte, store *Store, opts VerifyOptions) Verdict {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	v := Verdict{CheckedAt: now()}
	sd, err := ParseSignedData(sod)
	if err != nil {
		return v.fail(err, "EF.SOD")
	}
	if len(sd.Signers) > 0 {
		v.SignatureAlgorithm = sd.Signers[0].SignatureAlgorithm.String()
		v.SigningTime = sd.Signers[0].SigningTime
	}
	signer, err := sd.Verify()
	if err != nil {
		return v.fail(err, "EF.SOD signature")
	}
	v.Signer = signer
	if v.HashAlgorithm, v.Hashes, err = DataGroupHashes(sd.Content); err != nil {
		return v.fail(err, "LDS security object")
	}
	at, src := v.CheckedAt, CheckTime
	if !v.SigningTime.IsZero() {
		at, src = v.SigningTime, SigningTime
	}
	if store == nil {
		store = &Store{}
	}
	v.Result = store.VerifyDS(signer, at, src)
	if v.Status == StatusValid || v.Status == StatusExpired || v.Status == StatusNotYetValid {
		if want, ok := CountryAlpha2(opts.IssuingState); ok {
			if got := signer.Subject.Country(); got == "" {
				got = signer.Issuer.Country()
				if got != "" && got != want {
					v.Status, v.Reason = StatusCountryMismatch, fmt.Sprintf("MRZ issuing State %s, DS issuer country %s", want, got)
				}
			} else if got != want {
				v.Status, v.Reason = StatusCountryMismatch, fmt.Sprintf("MRZ issuing State %s, DS country %s", want, got)
			}
		}
	}
	return v
}

// fail sets the status an error of parsing or signature checking means.
func (v Verdict) fail(err error, what string) Verdict {
	switch {
	case errors.Is(err, ErrUnsupported):
		v.Status = StatusUnsupported
	case errors.Is(err, ErrNoSigner):
		// 9303-10 §4.6.2.1 makes the DS certificate in EF.SOD optional;
		// without it nothing links the signature to a CSCA.
		v.Status = StatusNoTrustAnchor
	default:
		v.Status = StatusInvalid
	}
	v.Reason = fmt.Sprintf("%s: %v", what, err)
	v.ValidityTimeSource = CheckTime
	v.ValidityTime = v.CheckedAt
	return v
}
