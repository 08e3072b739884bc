package mrtd

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pki"
)

// PassiveCheck is passive authentication (9303-11 §5.1): EF.SOD's
// signature and the chain of its document signer to a CSCA of the trust
// store, and the data groups read against the hashes EF.SOD signs.
type PassiveCheck struct {
	// Status is the signature and chain's: valid, invalid,
	// no_trust_anchor, …; empty when EF.SOD was not read.
	Status pki.Status `json:"status,omitempty"`
	// Hashes is Passed when every data group read matches its hash in
	// EF.SOD, Failed when one does not (or has none).
	Hashes Outcome `json:"hashes"`
	// Mismatched lists the data groups whose hash does not match.
	Mismatched []icao.EF `json:"mismatched,omitempty"`
	// Reason says in words why the status is not valid.
	Reason string `json:"reason,omitempty"`
	// Verdict holds the details: signer and CSCA, signing time, validity
	// time; nil when EF.SOD was not read.
	Verdict *pki.Verdict `json:"-"`
}

// covers reports whether f is vouched for by EF.SOD: its signature
// verified (whatever the chain) and f matches its hash.
func (p PassiveCheck) covers(f icao.EF) bool {
	unparsed := p.Hashes == Failed && len(p.Mismatched) == 0 // EF.SOD's hashes could not be read
	return p.Verdict != nil && p.Verdict.Hashes != nil && !unparsed && !slices.Contains(p.Mismatched, f)
}

// LogValue logs the status, hash outcome and reason.
func (p PassiveCheck) LogValue() slog.Value {
	return slog.GroupValue(slog.String("status", string(p.Status)), slog.String("hashes", p.Hashes.String()),
		slog.Int("mismatched", len(p.Mismatched)), slog.String("reason", p.Reason))
}

// PassiveOptions configure passive authentication.
type PassiveOptions struct {
	// Trust holds the CSCAs and CRLs; nil is an empty store, under which
	// every document is no_trust_anchor.
	Trust *pki.Store
	// Now is the time of the check; nil means time.Now.
	Now func() time.Time
}

// CheckPassive runs passive authentication over files (the files of a
// read or of a directory written by one): EF.SOD's signature and chain,
// and every data group present against its hash. issuingState is the
// MRZ's ("D", "UTO"); empty leaves the States' consistency unchecked.
func CheckPassive(files map[icao.EF][]byte, issuingState string, opts PassiveOptions) PassiveCheck {
	sod, ok := files[icao.EFSOD]
	if !ok {
		return PassiveCheck{Hashes: NotRun, Reason: "EF.SOD was not read"}
	}
	v := pki.VerifySOD(sod, opts.Trust, pki.VerifyOptions{Now: opts.Now, IssuingState: issuingState})
	p := PassiveCheck{Status: v.Status, Reason: v.Reason, Verdict: &v}
	if v.Status == pki.StatusValid {
		p.Reason = ""
	}
	p.Hashes, p.Mismatched = checkHashes(files)
	return p
}

// checkHashes compares each data group in files with its hash in EF.SOD.
func checkHashes(files map[icao.EF][]byte) (Outcome, []icao.EF) {
	sod, err := icao.ParseSOD(files[icao.EFSOD])
	if err != nil {
		return Failed, nil
	}
	var bad []icao.EF
	groups := 0
	for f, content := range files {
		if n := f.DataGroup(); n != 0 {
			groups++
			if sod.Check(n, content) != nil {
				bad = append(bad, f)
			}
		}
	}
	slices.Sort(bad)
	switch {
	case len(bad) > 0:
		return Failed, bad
	case groups == 0:
		return NotRun, nil
	}
	return Passed, nil
}

// Vouch settles whether the key the chip proved it holds is the
// document's own (9303-11 §6.2: chip authentication counts only with
// passive authentication of the key's file): a key from DG14 counts when
// EF.SOD's signature verifies and DG14 matches its hash; a key from
// EF.CardSecurity when that file's signature verifies and its signer does
// not chain to an invalid or revoked certificate. Otherwise a clone could
// bring a key file of its own: the check fails. When EF.SOD's signature
// could not be checked at all (an unsupported algorithm), the check did
// not run.
func Vouch(c ChipCheck, files map[icao.EF][]byte, p PassiveCheck, opts PassiveOptions) ChipCheck {
	if c.Outcome != Passed {
		return c
	}
	fail := func(reason string) ChipCheck {
		c.Outcome, c.Reason = Failed, reason
		return c
	}
	switch c.Source {
	case icao.EFDG14:
		switch {
		case slices.Contains(p.Mismatched, icao.EFDG14):
			return fail("DG14, which holds the chip's key, does not match its hash in EF.SOD")
		case p.Status == pki.StatusInvalid:
			return fail("DG14, which holds the chip's key, is not vouched for: EF.SOD's signature does not verify")
		case !p.covers(icao.EFDG14):
			c.Outcome, c.Reason = NotRun, "DG14, which holds the chip's key, could not be checked against EF.SOD"
		}
	case icao.EFCardSecurity:
		sd, err := pki.ParseSignedData(files[icao.EFCardSecurity])
		if err != nil {
			return fail("EF.CardSecurity, which holds the chip's key, does not parse")
		}
		signer, err := sd.Verify()
		if err != nil {
			return fail("EF.CardSecurity, which holds the chip's key, is not validly signed")
		}
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		trust := opts.Trust
		if trust == nil {
			trust = &pki.Store{}
		}
		switch r := trust.VerifyDS(signer, now(), pki.CheckTime); r.Status {
		case pki.StatusInvalid, pki.StatusRevoked:
			return fail("EF.CardSecurity's signer: " + r.Reason)
		}
	}
	return c
}

// ReasonHashes is the reason of an [AuthenticityError] for data groups that
// do not match EF.SOD: damaged in transit or altered.
const ReasonHashes = "data groups do not match the hashes signed in EF.SOD"

// ErrNotAuthentic is wrapped by the error [Authenticity.Problem] returns.
var ErrNotAuthentic = errors.New("mrtd: the document is not authentic")

// AuthenticityError says which check proved a document not authentic.
type AuthenticityError struct {
	Check  string // "passive", "chip" or "active"
	Reason string // for operators; no document data
}

func (e *AuthenticityError) Error() string {
	return fmt.Sprintf("mrtd: the document is not authentic: %s authentication: %s", e.Check, e.Reason)
}

// Unwrap returns [ErrNotAuthentic].
func (e *AuthenticityError) Unwrap() error { return ErrNotAuthentic }

// Problem decides, in this one place, whether the checks prove the
// document forged or cloned: a data group that does not match EF.SOD, a
// signature that does not verify, a revoked document signer, certificates
// of another State than the MRZ's, or a chip that failed chip or active
// authentication. It returns nil otherwise, including when nothing chains
// to a trust anchor (no_trust_anchor), a certificate has expired, or a
// check could not run: those are reported, not refused.
func (a Authenticity) Problem() *AuthenticityError {
	p := a.Passive
	switch {
	case p.Hashes == Failed:
		return &AuthenticityError{Check: "passive", Reason: ReasonHashes}
	case p.Status == pki.StatusInvalid:
		return &AuthenticityError{Check: "passive", Reason: "the signature of EF.SOD does not verify: " + p.Reason}
	case p.Status == pki.StatusRevoked:
		return &AuthenticityError{Check: "passive", Reason: "the document signer certificate is revoked"}
	case p.Status == pki.StatusCountryMismatch:
		return &AuthenticityError{Check: "passive", Reason: "the certificates are of another State than the document: " + p.Reason}
	case a.Chip.Outcome == Failed:
		return &AuthenticityError{Check: "chip", Reason: "the chip did not prove it holds the key of its files (clone suspected): " + a.Chip.Reason}
	case a.Active.Outcome == Failed:
		return &AuthenticityError{Check: "active", Reason: "the chip did not prove it holds the key of DG15 (clone suspected): " + a.Active.Reason}
	}
	return nil
}

// Policy is what a read does with a document that its checks prove forged
// or cloned ([Authenticity.Problem]).
type Policy int

const (
	// Strict fails the read (integrity_error, not_authentic) and uploads
	// nothing.
	Strict Policy = iota
	// Report uploads it anyway; the verdict is in the result.
	Report
)

// ParsePolicy reads "strict" or "report".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "strict":
		return Strict, nil
	case "report":
		return Report, nil
	}
	return 0, fmt.Errorf("mrtd: authenticity policy %q: want strict or report", s)
}

// String is "strict" or "report".
func (p Policy) String() string {
	if p == Report {
		return "report"
	}
	return "strict"
}
