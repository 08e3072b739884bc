package pki

import (
	"errors"
	"fmt"
	"time"
)

// maxLinks bounds the link certificates followed above a DS's CSCA; a
// State rolls its CSCA key every few years. The last one followed is the
// anchor.
const maxLinks = 4

// VerifyDS checks a Document Signer certificate against the store
// (9303-12 §7.1, §7.1.4; 9303-11 §5.1): its issuer by name and key
// identifier (AKI = SKI) among the loaded CSCA and link certificates,
// following link certificates to a self-signed anchor (a re-issued CSCA
// with the same key counts as either), or taking the link certificate as
// the anchor where no valid path goes above it; each issuer a CA with keyCertSign;
// every certificate of the chain valid at time at; the DS not on a loaded
// CRL of its CSCA; the countryName of the DS subject, its issuer and the
// CSCA the same. src says what at is (signingTime or the time of the
// check), and is reported with the result.
func (s *Store) VerifyDS(ds *Certificate, at time.Time, src TimeSource) Result {
	r := s.chain(ds, at)
	r.ValidityTime, r.ValidityTimeSource = at, src
	r.DocumentSigner = ds.Info()
	if r.Status != StatusValid && r.Status != StatusExpired && r.Status != StatusNotYetValid {
		return r
	}
	if crl, when, ok := s.revoked(ds); ok {
		r.Status = StatusRevoked
		r.Reason = fmt.Sprintf("DS serial %s revoked on %s by the CRL of %v", ds.SerialNumber.Text(16), when.Format(time.DateOnly), crl.Issuer)
		return r
	}
	if st, reason := countries(ds, r.Chain); st != StatusValid {
		r.Status, r.Reason = st, reason
		return r
	}
	if r.Status == StatusValid {
		if st, reason := validity(ds, at, "DS"); st != StatusValid {
			r.Status, r.Reason = st, reason
		}
	}
	return r
}

// chain finds the issuers of c up to a trust anchor and judges them at at.
// Of several candidate paths it returns a valid one, else the most telling
// failure.
func (s *Store) chain(c *Certificate, at time.Time) Result {
	return s.search(c, at, 0)
}

func (s *Store) search(c *Certificate, at time.Time, depth int) Result {
	cands, byKey := s.issuers(c)
	best := Result{Status: StatusNoTrustAnchor, Reason: noIssuer(c)}
	for i, cand := range cands {
		r := s.step(c, cand, at, depth, byKey)
		if r.Status == StatusValid {
			return r
		}
		if i == 0 || rank(r.Status) < rank(best.Status) {
			best = r
		}
	}
	return best
}

// step judges the path c → cand → … → anchor.
func (s *Store) step(c, cand *Certificate, at time.Time, depth int, byKey bool) Result {
	if err := c.CheckSignatureFrom(cand); err != nil {
		return signatureFailure(c, cand, err, byKey)
	}
	isAnchor, err := s.isAnchor(cand)
	if err != nil {
		return Result{Status: StatusInvalid, Reason: err.Error()}
	}
	// cand is the anchor when it is self-signed, and also when it is a link
	// certificate with no valid path above it: a loaded link certificate is
	// a CSCA certificate in its own right (9303-12 §7.1.1; master lists
	// carry them beside self-signed ones).
	r := Result{Status: StatusValid}
	if !isAnchor && depth < maxLinks {
		if up := s.search(cand, at, depth+1); !linkAnchors(up.Status) {
			r = up
		}
	}
	r.Chain = append([]*Certificate{cand}, r.Chain...)
	if r.Status == StatusValid {
		if st, reason := validity(cand, at, "CSCA"); st != StatusValid {
			r.Status, r.Reason = st, reason
		}
	}
	r.CSCA = cand.Info() // the DS's issuer, once the recursion unwinds
	return r
}

// linkAnchors reports whether a link certificate stands as the anchor
// when the path above it ends so: at no loaded issuer, too many links up,
// or at an older certificate no longer valid. A signature that fails
// above it is a finding and stays one.
func linkAnchors(s Status) bool {
	return s == StatusNoTrustAnchor || s == StatusExpired || s == StatusNotYetValid
}

// rank orders failures from the most to the least telling.
func rank(s Status) int {
	switch s {
	case StatusValid:
		return 0
	case StatusExpired, StatusNotYetValid:
		return 1
	case StatusInvalid:
		return 2
	case StatusUnsupported:
		return 3
	}
	return 4
}

func noIssuer(c *Certificate) string {
	if c.AuthorityKeyID != nil {
		return fmt.Sprintf("no CSCA %v with key identifier %x loaded", c.Issuer, c.AuthorityKeyID)
	}
	return fmt.Sprintf("no CSCA %v loaded", c.Issuer)
}

// signatureFailure judges a candidate issuer whose key does not verify c:
// a forgery when the key identifiers matched, else just not the issuer
// (several CSCAs of one name without key identifiers).
func signatureFailure(c, cand *Certificate, err error, byKey bool) Result {
	switch {
	case errors.Is(err, ErrUnsupported):
		return Result{Status: StatusUnsupported, Reason: fmt.Sprintf("signature of %v by %v: %v", c.Subject, cand.Subject, err)}
	case errors.Is(err, ErrNotCA):
		return Result{Status: StatusInvalid, Reason: err.Error()}
	case byKey:
		return Result{Status: StatusInvalid, Reason: fmt.Sprintf("%v: signature does not verify under %v (key %x)", c.Subject, cand.Subject, cand.SubjectKeyID)}
	}
	return Result{Status: StatusNoTrustAnchor, Reason: fmt.Sprintf("no loaded CSCA %v verifies the signature of %v", c.Issuer, c.Subject)}
}

// issuers returns the loaded certificates that may have issued c: those
// whose subject is c's issuer and, when both have them, whose subject key
// identifier is c's authority key identifier; failing those, the ones
// with that key identifier whose subject has the issuer's RDNs in another
// order (States re-encode names). byKey reports that key identifiers
// matched.
func (s *Store) issuers(c *Certificate) (cands []*Certificate, byKey bool) {
	for _, cand := range s.bySubject[c.Issuer.Key()] {
		if cand == c {
			continue
		}
		switch {
		case c.AuthorityKeyID == nil || cand.SubjectKeyID == nil:
			cands = append(cands, cand)
		case string(c.AuthorityKeyID) == string(cand.SubjectKeyID):
			cands = append(cands, cand)
			byKey = true
		}
	}
	if len(cands) > 0 || c.AuthorityKeyID == nil {
		return cands, byKey
	}
	for _, cand := range s.bySKI[string(c.AuthorityKeyID)] {
		if cand != c && cand.Subject.unorderedKey() == c.Issuer.unorderedKey() {
			cands = append(cands, cand)
		}
	}
	return cands, len(cands) > 0
}

// validity judges a certificate's validity period at at.
func validity(c *Certificate, at time.Time, what string) (Status, string) {
	switch {
	case at.Before(c.NotBefore):
		return StatusNotYetValid, fmt.Sprintf("%s %v not valid before %s", what, c.Subject, c.NotBefore.Format(time.DateOnly))
	case at.After(c.NotAfter):
		return StatusExpired, fmt.Sprintf("%s %v expired on %s", what, c.Subject, c.NotAfter.Format(time.DateOnly))
	}
	return StatusValid, ""
}

// revoked returns the loaded CRL of the DS's CSCA that lists it.
func (s *Store) revoked(ds *Certificate) (*CRL, time.Time, bool) {
	for _, crl := range s.crls {
		if !crl.Issuer.Equal(ds.Issuer) {
			continue
		}
		if crl.AuthorityKeyID != nil && ds.AuthorityKeyID != nil && string(crl.AuthorityKeyID) != string(ds.AuthorityKeyID) {
			continue
		}
		if when, ok := crl.Revokes(ds.SerialNumber); ok {
			return crl, when, true
		}
	}
	return nil, time.Time{}, false
}

// countries checks that the DS, its issuer name and the chain's
// certificates name one State (9303-12 §7.1.1: countryName is the issuing
// State's); names without countryName are not judged.
func countries(ds *Certificate, chain []*Certificate) (Status, string) {
	want := ds.Issuer.Country()
	names := []Name{ds.Subject}
	for _, c := range chain {
		names = append(names, c.Subject)
	}
	for _, n := range names {
		got := n.Country()
		if want == "" {
			want = got
		}
		if got != "" && got != want {
			return StatusCountryMismatch, fmt.Sprintf("%v names country %s, the DS issuer %s", n, got, want)
		}
	}
	return StatusValid, ""
}
