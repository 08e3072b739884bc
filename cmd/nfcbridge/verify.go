package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/secretfile"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/pki"
)

// The Active Authentication evidence read --out keeps next to the files:
// the challenge sent and the chip's answer to INTERNAL AUTHENTICATE
// (9303-11 §6.1), raw bytes.
const (
	fileAAChallenge = "AA-challenge"
	fileAAResponse  = "AA-response"
)

// maxEvidenceFile caps AA-challenge and AA-response as [icao.ReadDir]
// caps the files it reads.
const maxEvidenceFile = icao.MaxDirFile

// errNothingToVerify is returned for a directory in which no check can
// run: a wrong --dir must not read as a verified document.
var errNothingToVerify = errors.New("nothing to verify: no EF.SOD, no EF.CardSecurity, and no DG15 with AA-challenge and AA-response")

// evidence is what verify found in a directory.
type evidence struct {
	files     map[icao.EF][]byte
	challenge []byte // nil when AA-challenge is absent
	response  []byte // nil when AA-response is absent
	names     []string
	ignored   []string
}

// readEvidence reads the files of dir that read --out writes
// ([icao.ReadDir] and the Active Authentication evidence). Other names are
// listed, not read; a known name that is not a regular file is an error,
// so that nothing is verified through a link or a device.
func readEvidence(dir string) (*evidence, error) {
	files, ignored, err := icao.ReadDir(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	ev := &evidence{files: files}
	for f := range files {
		ev.names = append(ev.names, f.String())
	}
	for _, name := range ignored {
		var dst *[]byte
		switch name {
		case fileAAChallenge:
			dst = &ev.challenge
		case fileAAResponse:
			dst = &ev.response
		default:
			ev.ignored = append(ev.ignored, name)
			continue
		}
		path := filepath.Join(dir, name)
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s in %s is not a regular file", name, dir)
		}
		if *dst, err = secretfile.Read(path, secretfile.Regular, maxEvidenceFile); err != nil {
			return nil, err
		}
		ev.names = append(ev.names, name)
	}
	slices.Sort(ev.names)
	return ev, nil
}

// verifyReport is the output of verify: the verdicts and certificate
// names, never the contents of a data group.
type verifyReport struct {
	Dir          string             `json:"dir"`
	Files        []string           `json:"files"`
	Ignored      []string           `json:"ignored,omitempty"`
	Passive      passiveReport      `json:"passive"`
	CardSecurity cardSecurityReport `json:"cardSecurity"`
	DG14         dg14Report         `json:"dg14"`
	Chip         mrtd.ChipCheck     `json:"chip"`
	Active       activeReport       `json:"active"`
	Trust        []pki.LoadReport   `json:"trust"`
	// Authentic is true when no check proves the document forged or
	// cloned ([mrtd.Authenticity.Problem]); Warnings say what was not
	// proven (no trust anchor, checks that could not run).
	Authentic bool     `json:"authentic"`
	Problem   string   `json:"problem,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`

	problem *mrtd.AuthenticityError
	ran     bool // some check ran
}

// passiveReport is passive authentication with its details.
type passiveReport struct {
	Present bool `json:"present"`
	mrtd.PassiveCheck
	// Mismatched shadows PassiveCheck's: icao.EF has no text form, and
	// a []icao.EF would come out as base64.
	Mismatched    []string     `json:"mismatched,omitempty"`
	HashAlgorithm string       `json:"hashAlgorithm,omitempty"`
	Verdict       *pki.Verdict `json:"verdict,omitempty"`
}

// cardSecurityReport is the check of EF.CardSecurity's signature and
// signer (9303-11 §9.2.11; BSI TR-03110-3 A.1.2.2).
type cardSecurityReport struct {
	Present bool `json:"present"`
	*pki.Verdict
	// ChipAuthKey is the Chip Authentication key it offers.
	ChipAuthKey string `json:"chipAuthKey,omitempty"`
}

// dg14Report says whether EF.SOD vouches for DG14 and what it offers.
type dg14Report struct {
	Present bool `json:"present"`
	// CoveredBySOD: passed when EF.SOD's signature verifies and DG14
	// matches its hash, failed when it does not match, not_run without
	// a verified EF.SOD.
	CoveredBySOD mrtd.Outcome `json:"coveredBySOD"`
	// ChipAuth is passed when DG14 offers a Chip Authentication key this
	// reader runs, unsupported for keys on other domain parameters,
	// not_offered for none.
	ChipAuth       mrtd.Outcome `json:"chipAuth"`
	ChipAuthKey    string       `json:"chipAuthKey,omitempty"`
	ActiveAuthHash string       `json:"activeAuthHash,omitempty"`
	Reason         string       `json:"reason,omitempty"`
}

// activeReport is Active Authentication checked from the evidence.
type activeReport struct {
	mrtd.ActiveCheck
	// DG15CoveredBySOD is as dg14Report.CoveredBySOD, for DG15.
	DG15CoveredBySOD mrtd.Outcome `json:"dg15CoveredBySOD"`
}

// runVerify checks a directory written by read --out without a chip.
func runVerify(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "verify")
	dir := fs.String("dir", "", "directory written by \"nfcbridge read --out\"")
	asJSON := fs.Bool("json", false, "print the verdicts as JSON on stdout")
	tf := addTrustFlags(fs, false)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return usagef("--dir is required")
	}
	store, reports, err := tf.load()
	if err != nil {
		return err
	}
	r, err := verifyDir(*dir, store, time.Now)
	if err != nil {
		return err
	}
	r.Trust = reports
	if r.Trust == nil {
		r.Trust = []pki.LoadReport{}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printVerify(e.stdout, r)
	}
	switch {
	case r.problem != nil:
		return r.problem
	case !r.ran:
		return errNothingToVerify
	}
	return nil
}

// verifyDir runs every check the files of dir allow, at the time now
// returns.
func verifyDir(dir string, store *pki.Store, now func() time.Time) (*verifyReport, error) {
	ev, err := readEvidence(dir)
	if err != nil {
		return nil, err
	}
	return verifyEvidence(dir, ev, store, now), nil
}

// verifyEvidence runs every check the evidence allows.
func verifyEvidence(dir string, ev *evidence, store *pki.Store, now func() time.Time) *verifyReport {
	r := &verifyReport{Dir: dir, Files: ev.names, Ignored: ev.ignored}
	if r.Files == nil {
		r.Files = []string{}
	}
	r.Passive = checkPassive(ev, store, now)
	r.CardSecurity = checkCardSecurity(ev, store, now)
	r.DG14 = checkDG14(ev, r.Passive.PassiveCheck)
	r.Chip = mrtd.ChipCheck{Outcome: mrtd.NotRun, KeyID: chipauth.NoKeyID, Reason: "chip authentication needs the chip; it cannot run offline"}
	r.Active = checkActive(ev, r.Passive.PassiveCheck)
	r.ran = r.Passive.Present || r.CardSecurity.Present || r.Active.Outcome == mrtd.Passed || r.Active.Outcome == mrtd.Failed
	auth := mrtd.Authenticity{Passive: r.Passive.PassiveCheck, Chip: r.Chip, Active: r.Active.ActiveCheck}
	r.problem = auth.Problem()
	if r.problem == nil {
		r.problem = cardSecurityProblem(r.CardSecurity)
	}
	r.Authentic = r.problem == nil && r.ran
	if r.problem != nil {
		r.Problem = r.problem.Reason
	}
	r.Warnings = warnings(r)
	return r
}

// coverage says whether EF.SOD vouches for f: its signature verifies and
// f matches its hash.
func coverage(p mrtd.PassiveCheck, f icao.EF) mrtd.Outcome {
	switch {
	case slices.Contains(p.Mismatched, f):
		return mrtd.Failed
	case p.Verdict == nil || p.Verdict.Hashes == nil || p.Hashes == mrtd.Failed:
		return mrtd.NotRun
	}
	return mrtd.Passed
}

// checkPassive runs passive authentication, with the issuing State of DG1
// when DG1 is there.
func checkPassive(ev *evidence, store *pki.Store, now func() time.Time) passiveReport {
	state := ""
	if b, ok := ev.files[icao.EFDG1]; ok {
		if dg1, err := icao.ParseDG1(b); err == nil && dg1.MRZ != nil {
			state = strings.TrimRight(dg1.MRZ.IssuingState, "<")
		}
	}
	p := mrtd.CheckPassive(ev.files, state, mrtd.PassiveOptions{Trust: store, Now: now})
	r := passiveReport{PassiveCheck: p, Present: ev.files[icao.EFSOD] != nil, Verdict: p.Verdict}
	if !r.Present {
		r.Reason = "no EF.SOD in the directory"
	}
	for _, f := range p.Mismatched {
		r.Mismatched = append(r.Mismatched, f.String())
	}
	if p.Verdict != nil && p.Verdict.HashAlgorithm != 0 {
		r.HashAlgorithm = p.Verdict.HashAlgorithm.String()
	}
	return r
}

// checkCardSecurity verifies EF.CardSecurity's signature and chains its
// signer through the store, judged at its signingTime when it has one, as
// EF.SOD is.
func checkCardSecurity(ev *evidence, store *pki.Store, now func() time.Time) cardSecurityReport {
	b, ok := ev.files[icao.EFCardSecurity]
	if !ok {
		return cardSecurityReport{}
	}
	v := &pki.Verdict{CheckedAt: now()}
	r := cardSecurityReport{Present: true, Verdict: v}
	sd, err := pki.ParseSignedData(b)
	if err != nil {
		signatureFailed(v, err)
		return r
	}
	if len(sd.Signers) > 0 {
		v.SignatureAlgorithm = sd.Signers[0].SignatureAlgorithm.String()
		v.SigningTime = sd.Signers[0].SigningTime
	}
	if infos, err := pace.ParseSecurityInfos(sd.Content); err == nil {
		if key, err := chipauth.Choose(infos); err == nil {
			r.ChipAuthKey = key.String()
		}
	}
	signer, err := sd.Verify()
	if err != nil {
		signatureFailed(v, err)
		return r
	}
	v.Signer = signer
	at, src := v.CheckedAt, pki.CheckTime
	if !v.SigningTime.IsZero() {
		at, src = v.SigningTime, pki.SigningTime
	}
	if store == nil {
		store = &pki.Store{}
	}
	v.Result = store.VerifyDS(signer, at, src)
	return r
}

// signatureFailed sets the status a SignedData error means, as
// pki.VerifySOD does for EF.SOD.
func signatureFailed(v *pki.Verdict, err error) {
	switch {
	case errors.Is(err, pki.ErrUnsupported):
		v.Status = pki.StatusUnsupported
	case errors.Is(err, pki.ErrNoSigner):
		v.Status = pki.StatusNoTrustAnchor
	default:
		v.Status = pki.StatusInvalid
	}
	v.Reason = "EF.CardSecurity: " + err.Error()
	v.ValidityTime, v.ValidityTimeSource = v.CheckedAt, pki.CheckTime
}

// cardSecurityProblem applies mrtd's decision to EF.CardSecurity's
// signature and signer, as to EF.SOD's.
func cardSecurityProblem(r cardSecurityReport) *mrtd.AuthenticityError {
	if r.Verdict == nil {
		return nil
	}
	a := mrtd.Authenticity{Passive: mrtd.PassiveCheck{Status: r.Status, Reason: r.Reason, Hashes: mrtd.NotRun}}
	if a.Problem() == nil {
		return nil
	}
	return &mrtd.AuthenticityError{Check: "card security", Reason: "EF.CardSecurity: " + string(r.Status) + ": " + r.Reason}
}

// checkDG14 reports DG14's binding to EF.SOD and what it offers.
func checkDG14(ev *evidence, p mrtd.PassiveCheck) dg14Report {
	b, ok := ev.files[icao.EFDG14]
	if !ok {
		return dg14Report{CoveredBySOD: mrtd.NotRun, ChipAuth: mrtd.NotRun, Reason: "no DG14 in the directory"}
	}
	r := dg14Report{Present: true, CoveredBySOD: coverage(p, icao.EFDG14)}
	infos, err := pace.ParseDG14(b)
	if err != nil {
		r.ChipAuth, r.Reason = mrtd.NotRun, err.Error()
		return r
	}
	switch key, err := chipauth.Choose(infos); {
	case err == nil:
		r.ChipAuth, r.ChipAuthKey = mrtd.Passed, key.String()
	case len(infos.ChipKeys) > 0:
		r.ChipAuth, r.Reason = mrtd.Unsupported, "no chip authentication key on standardized domain parameters"
	default:
		r.ChipAuth = mrtd.NotOffered
	}
	if h := aaHash(infos); h != 0 {
		r.ActiveAuthHash = h.String()
	}
	return r
}

// aaHash is the ECDSA hash DG14's ActiveAuthenticationInfo names
// (9303-11 §9.2), or 0: activeauth.Verify then tries each.
func aaHash(infos *pace.SecurityInfos) crypto.Hash {
	if infos == nil || len(infos.ActiveAuth) == 0 {
		return 0
	}
	h, err := activeauth.HashForAlgorithm(infos.ActiveAuth[0].SignatureAlgorithm)
	if err != nil {
		return 0
	}
	return h
}

// checkActive verifies the chip's answer in AA-response to AA-challenge
// with the key of DG15 (9303-11 §6.1.2), as the read did.
func checkActive(ev *evidence, p mrtd.PassiveCheck) activeReport {
	r := activeReport{DG15CoveredBySOD: mrtd.NotRun}
	dg15, ok := ev.files[icao.EFDG15]
	if !ok {
		r.Outcome, r.Reason = mrtd.NotRun, "no DG15 in the directory"
		return r
	}
	r.DG15CoveredBySOD = coverage(p, icao.EFDG15)
	if ev.challenge == nil || ev.response == nil {
		r.Outcome, r.Reason = mrtd.NotRun, "no "+fileAAChallenge+" and "+fileAAResponse+" in the directory"
		return r
	}
	pub, err := activeauth.ParseDG15(dg15)
	switch {
	case errors.Is(err, activeauth.ErrUnsupported):
		r.Outcome, r.Reason = mrtd.Unsupported, err.Error()
		return r
	case err != nil:
		r.Outcome, r.Reason = mrtd.Failed, err.Error()
		return r
	}
	var hash crypto.Hash
	if b, ok := ev.files[icao.EFDG14]; ok {
		if infos, err := pace.ParseDG14(b); err == nil {
			hash = aaHash(infos)
		}
	}
	alg, err := activeauth.Verify(pub, ev.challenge, ev.response, hash)
	r.Algorithm = alg
	switch {
	case err == nil:
		r.Outcome = mrtd.Passed
	case errors.Is(err, activeauth.ErrUnsupported):
		r.Outcome, r.Reason = mrtd.Unsupported, err.Error()
	default:
		r.Outcome, r.Reason = mrtd.Failed, err.Error()
	}
	return r
}

// warnings says what the checks did not prove.
func warnings(r *verifyReport) []string {
	var w []string
	if !r.ran {
		w = append(w, errNothingToVerify.Error())
	}
	for _, c := range []struct {
		name   string
		status pki.Status
	}{{"EF.SOD", r.Passive.Status}, {"EF.CardSecurity", cardSecurityStatus(r.CardSecurity)}} {
		switch c.status {
		case pki.StatusNoTrustAnchor:
			w = append(w, "NO TRUST ANCHOR: nothing chains the signer of "+c.name+" to a CSCA given with --trust: the signature is checked, the issuer is not")
		case pki.StatusExpired, pki.StatusNotYetValid, pki.StatusUnsupported:
			w = append(w, c.name+": "+string(c.status)+": the signer is not proven")
		}
	}
	if r.DG14.Present && r.DG14.CoveredBySOD != mrtd.Passed {
		w = append(w, "DG14 is not vouched for by a verified EF.SOD")
	}
	if r.Active.Outcome == mrtd.Passed && r.Active.DG15CoveredBySOD != mrtd.Passed {
		w = append(w, "DG15 is not vouched for by a verified EF.SOD: active authentication proves only that the response matches this DG15")
	}
	return w
}

func cardSecurityStatus(r cardSecurityReport) pki.Status {
	if r.Verdict == nil {
		return ""
	}
	return r.Status
}

// printVerify writes the report for a person.
func printVerify(w io.Writer, r *verifyReport) {
	files := strings.Join(r.Files, ", ")
	if files == "" {
		files = "no file read --out writes"
	}
	fmt.Fprintf(w, "verify %s: %s\n", r.Dir, files)
	if len(r.Ignored) > 0 {
		fmt.Fprintf(w, "  ignored (not written by read --out): %s\n", strings.Join(r.Ignored, ", "))
	}
	printTrust(w, r.Trust)
	p := r.Passive
	switch {
	case !p.Present:
		fmt.Fprintln(w, "  EF.SOD: absent")
	default:
		line := "  EF.SOD: " + string(p.Status)
		if p.HashAlgorithm != "" {
			line += " (" + p.HashAlgorithm + ")"
		}
		if p.Reason != "" {
			line += ": " + p.Reason
		}
		fmt.Fprintln(w, line)
		if v := p.Verdict; v != nil && v.DocumentSigner != nil {
			fmt.Fprintf(w, "    document signer: %v\n", v.DocumentSigner.Subject)
		}
		if v := p.Verdict; v != nil && v.CSCA != nil {
			fmt.Fprintf(w, "    CSCA: %v\n", v.CSCA.Subject)
		}
		hashes := "data group hashes: " + p.Hashes.String()
		for _, f := range p.Mismatched {
			hashes += ", " + f + " MISMATCH"
		}
		fmt.Fprintln(w, "    "+hashes)
	}
	cs := r.CardSecurity
	switch {
	case !cs.Present:
		fmt.Fprintln(w, "  EF.CardSecurity: absent")
	default:
		line := "  EF.CardSecurity: " + string(cs.Status)
		if cs.Reason != "" {
			line += ": " + cs.Reason
		}
		fmt.Fprintln(w, line)
		if cs.ChipAuthKey != "" {
			fmt.Fprintln(w, "    chip authentication key:", cs.ChipAuthKey)
		}
	}
	d := r.DG14
	switch {
	case !d.Present:
		fmt.Fprintln(w, "  DG14: absent")
	default:
		key := d.ChipAuth.String()
		if d.ChipAuth == mrtd.Passed {
			key = "usable"
		}
		line := fmt.Sprintf("  DG14: covered by EF.SOD: %v; chip authentication key: %s", d.CoveredBySOD, key)
		if d.ChipAuthKey != "" {
			line += " (" + d.ChipAuthKey + ")"
		}
		if d.Reason != "" {
			line += ": " + d.Reason
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "  chip authentication:", r.Chip.Outcome.String()+": "+r.Chip.Reason)
	a := r.Active
	line := "  active authentication: " + a.Outcome.String()
	if a.Algorithm.Scheme != 0 && a.Outcome == mrtd.Passed {
		line += " (" + a.Algorithm.String() + ")"
	}
	if a.Reason != "" {
		line += ": " + a.Reason
	}
	if a.Outcome != mrtd.NotRun || a.DG15CoveredBySOD != mrtd.NotRun {
		line += "; DG15 covered by EF.SOD: " + a.DG15CoveredBySOD.String()
	}
	fmt.Fprintln(w, line)
	for _, s := range r.Warnings {
		fmt.Fprintln(w, "  WARNING:", s)
	}
	switch {
	case r.problem != nil:
		fmt.Fprintln(w, "  NOT AUTHENTIC:", r.problem.Reason)
	case r.ran:
		fmt.Fprintln(w, "  every check that could run passed")
	}
}
