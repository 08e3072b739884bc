package pki

import (
	"crypto/sha256"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store holds trust anchors: CSCA certificates, link certificates and the
// CRLs their CSCAs signed, indexed by subject ([Name.Key]) and subject key
// identifier. Build a Store with [Store.LoadPath], [Store.AddCertificate]
// and [Store.AddCRL]; then it is safe for concurrent verification. A
// reload (SIGHUP) builds a new Store and swaps it in. The zero Store is
// empty and ready.
type Store struct {
	// Now returns the time the store judges master list signers at; nil
	// means time.Now.
	Now func() time.Time

	certs     []*Certificate
	seen      map[[32]byte]bool
	bySubject map[string][]*Certificate
	bySKI     map[string][]*Certificate
	anchors   map[*Certificate]*anchor
	crls      []*CRL
	pending   []pendingCRL
	reports   []LoadReport
}

type pendingCRL struct {
	crl  *CRL
	path string
}

// FileKind is the kind of a trust file.
type FileKind string

// File kinds, by extension: .cer .crt .der .pem; .ml; .ldif; .crl.
const (
	KindCertificate FileKind = "certificate"
	KindMasterList  FileKind = "master_list"
	KindLDIF        FileKind = "ldif"
	KindCRL         FileKind = "crl"
)

// MarshalText returns the kind's name.
func (k FileKind) MarshalText() ([]byte, error) { return []byte(k), nil }

// LoadReport says what one trust file gave, for logs and `verify --json`.
type LoadReport struct {
	Path string   `json:"path"`
	Kind FileKind `json:"kind"`
	// CSCAs counts the CA certificates the file holds (self-signed and
	// link); Duplicates how many of them were loaded before.
	CSCAs      int `json:"cscas"`
	Duplicates int `json:"duplicates,omitempty"`
	// Skipped counts certificates not taken: not a CA, or not parsed (an
	// unknown curve); Warnings say why.
	Skipped int `json:"skipped,omitempty"`
	// CRLs counts the CRLs taken (signature verified by a loaded CSCA).
	CRLs int `json:"crls,omitempty"`
	// Signers are the master lists' signers.
	Signers  []SignerReport `json:"signers,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	// Error is why the file was refused; nothing of it was loaded.
	Error string `json:"error,omitempty"`
}

// SignerReport describes who signed a master list and whether that signer
// chains to a CSCA loaded before the list (one the operator gave, not one
// of the list's own).
type SignerReport struct {
	Signer    *CertificateInfo `json:"signer"`
	Chained   bool             `json:"chained"`
	ChainedTo *Name            `json:"chainedTo,omitempty"`
	Status    Status           `json:"status"`
	Reason    string           `json:"reason,omitempty"`
}

// Reports returns the reports of every file loaded so far.
func (s *Store) Reports() []LoadReport { return append([]LoadReport(nil), s.reports...) }

// Len returns the number of CA certificates held.
func (s *Store) Len() int { return len(s.certs) }

// CRLs returns the number of CRLs held (signatures verified).
func (s *Store) CRLs() int { return len(s.crls) }

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// kindOf returns the kind of a trust file by its extension.
func kindOf(path string) (FileKind, bool) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".cer", ".crt", ".der", ".pem":
		return KindCertificate, true
	case ".ml":
		return KindMasterList, true
	case ".ldif":
		return KindLDIF, true
	case ".crl":
		return KindCRL, true
	}
	return "", false
}

// loadOrder loads certificates before the master lists whose signers they
// anchor, and CRLs last, once their issuers are in.
func loadOrder(k FileKind) int {
	switch k {
	case KindCertificate:
		return 0
	case KindLDIF:
		return 1
	case KindMasterList:
		return 2
	}
	return 3
}

// LoadPath loads a trust file, or every trust file under a directory
// (recursively; files of other extensions are ignored there, but a file
// named directly must have a trust file's extension). It returns a report
// per file; the error joins the errors of the files refused, each naming
// its file. Files that loaded stay loaded when others fail.
func (s *Store) LoadPath(path string) ([]LoadReport, error) {
	files, err := trustFiles(path)
	if err != nil {
		return nil, err
	}
	var reports []LoadReport
	var errs []error
	for _, f := range files {
		kind, _ := kindOf(f)
		r, err := s.loadFile(f, kind)
		if err != nil {
			r.Error = err.Error()
			errs = append(errs, fmt.Errorf("pki: %s: %w", f, err))
		}
		reports = append(reports, r)
	}
	reports = append(reports, s.retryPending()...)
	s.reports = append(s.reports, reports...)
	return reports, errors.Join(errs...)
}

func trustFiles(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pki: trust path: %w", err)
	}
	if !info.IsDir() {
		if _, ok := kindOf(path); !ok {
			return nil, fmt.Errorf("pki: %s: not a trust file (.cer .crt .der .pem .ml .ldif .crl)", path)
		}
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if _, ok := kindOf(p); ok && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pki: trust directory: %w", err)
	}
	sort.SliceStable(files, func(i, j int) bool {
		ki, _ := kindOf(files[i])
		kj, _ := kindOf(files[j])
		if loadOrder(ki) != loadOrder(kj) {
			return loadOrder(ki) < loadOrder(kj)
		}
		return files[i] < files[j]
	})
	return files, nil
}

func (s *Store) loadFile(path string, kind FileKind) (LoadReport, error) {
	r := LoadReport{Path: path, Kind: kind}
	b, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	switch kind {
	case KindCertificate:
		err = s.loadCertificates(&r, b)
	case KindMasterList:
		err = s.loadMasterList(&r, b)
	case KindLDIF:
		err = s.loadLDIF(&r, b)
	case KindCRL:
		err = s.loadCRL(&r, path, b)
	}
	return r, err
}

// loadCertificates takes one DER certificate or a PEM bundle.
func (s *Store) loadCertificates(r *LoadReport, b []byte) error {
	ders := [][]byte{b}
	if strings.HasPrefix(strings.TrimSpace(string(b[:min(len(b), 64)])), "-----BEGIN") {
		ders = nil
		for rest := b; ; {
			var blk *pem.Block
			if blk, rest = pem.Decode(rest); blk == nil {
				break
			}
			if blk.Type == "CERTIFICATE" {
				ders = append(ders, blk.Bytes)
			}
		}
		if len(ders) == 0 {
			return fmt.Errorf("%w: no PEM CERTIFICATE", ErrMalformed)
		}
	}
	var certs []*Certificate
	for _, der := range ders {
		c, err := ParseCertificate(der)
		if err != nil {
			if len(ders) == 1 {
				return err
			}
			r.Skipped++
			r.Warnings = append(r.Warnings, err.Error())
			continue
		}
		certs = append(certs, c)
	}
	s.addAll(r, certs, checkNow)
	return nil
}

// addAll adds the CA certificates and counts them in r.
func (s *Store) addAll(r *LoadReport, certs []*Certificate, check selfCheck) {
	for _, c := range certs {
		added, err := s.add(c, check)
		switch {
		case err != nil:
			r.Skipped++
			r.Warnings = append(r.Warnings, fmt.Sprintf("%v: %v", c.Subject, err))
		case added:
			r.CSCAs++
			if _, dev := c.SignsCertificates(); dev != "" {
				r.Warnings = append(r.Warnings, fmt.Sprintf("%v: %s", c.Subject, dev))
			}
		default:
			r.CSCAs++
			r.Duplicates++
		}
	}
}

// errNotCA refuses a certificate that is no CSCA or link certificate.
var errNotCA = errors.New("not a CA certificate, not taken as a trust anchor")

// AddCertificate adds a CSCA or link certificate. A self-signed
// certificate becomes a trust anchor when its own signature verifies; a
// link certificate (9303-12 §7.1.1: the new CSCA key signed by the old)
// chains to one when its issuer is loaded, and is the anchor itself when
// no valid path goes above it: it was given as trusted, as master lists
// give them. A certificate that may not sign certificates
// ([Certificate.SignsCertificates]) is refused.
func (s *Store) AddCertificate(c *Certificate) error {
	_, err := s.add(c, checkNow)
	return err
}

// selfCheck says when a self-signed certificate's signature is checked:
// at once for the certificates an operator gives one by one, so that a
// broken one is refused in the load report; at first use for a master
// list's, which its signer vouches for and which are many (the check
// dominates the load time of a large list; see BenchmarkLoadMasterList).
type selfCheck bool

const (
	checkNow   selfCheck = true
	checkLater selfCheck = false
)

// anchor is a self-signed certificate whose self-signature is checked
// once, at load or at first use, safely for concurrent verifications.
type anchor struct {
	once sync.Once
	err  error
}

// isAnchor reports whether c is a trust anchor: self-signed, its own
// signature verifying. A certificate named by itself whose signature the
// key does not verify and that has no AKI is a link certificate.
func (s *Store) isAnchor(c *Certificate) (bool, error) {
	a := s.anchors[c]
	if a == nil {
		return false, nil
	}
	a.once.Do(func() { a.err = c.CheckSignatureFrom(c) })
	switch {
	case a.err == nil:
		return true, nil
	case errors.Is(a.err, ErrSignature) && c.AuthorityKeyID == nil:
		return false, nil
	}
	return false, fmt.Errorf("self-signature of %v: %w", c.Subject, a.err)
}

func (s *Store) add(c *Certificate, check selfCheck) (added bool, err error) {
	if ok, _ := c.SignsCertificates(); !ok || c.Version < 3 && !c.SelfSigned() {
		return false, errNotCA
	}
	var a *anchor
	if c.SelfSigned() {
		a = &anchor{}
		if check == checkNow {
			a.once.Do(func() { a.err = c.CheckSignatureFrom(c) })
			if a.err != nil && !(errors.Is(a.err, ErrSignature) && c.AuthorityKeyID == nil) {
				return false, fmt.Errorf("self-signature: %w", a.err)
			}
		}
	}
	if s.seen == nil {
		s.seen = map[[32]byte]bool{}
		s.bySubject = map[string][]*Certificate{}
		s.bySKI = map[string][]*Certificate{}
		s.anchors = map[*Certificate]*anchor{}
	}
	h := sha256.Sum256(c.Raw)
	if s.seen[h] {
		return false, nil
	}
	s.seen[h] = true
	s.certs = append(s.certs, c)
	s.bySubject[c.Subject.Key()] = append(s.bySubject[c.Subject.Key()], c)
	if c.SubjectKeyID != nil {
		s.bySKI[string(c.SubjectKeyID)] = append(s.bySKI[string(c.SubjectKeyID)], c)
	}
	if a != nil {
		s.anchors[c] = a
	}
	return true, nil
}

// loadMasterList checks the list's signature, refusing the list when it
// fails, reports whether its signer chains to a CSCA loaded before, and
// adds its certificates.
func (s *Store) loadMasterList(r *LoadReport, b []byte) error {
	ml, err := ParseMasterList(b)
	if err != nil {
		return fmt.Errorf("master list: %w", err)
	}
	signer, err := ml.Verify()
	if err != nil {
		return fmt.Errorf("master list signature: %w", err)
	}
	res := s.chain(signer, s.now())
	if res.Status == StatusValid {
		res.Status, res.Reason = validity(signer, s.now(), "master list signer")
	}
	sr := SignerReport{Signer: signer.Info(), Chained: res.Status == StatusValid, Status: res.Status, Reason: res.Reason}
	if len(res.Chain) > 0 {
		sr.ChainedTo = &res.Chain[len(res.Chain)-1].Subject
	}
	r.Signers = append(r.Signers, sr)
	for _, e := range ml.CertificateErrors {
		r.Skipped++
		r.Warnings = append(r.Warnings, e.Error())
	}
	s.addAll(r, ml.Certificates, checkLater)
	return nil
}

// loadLDIF takes the certificates, master lists and CRLs of an ICAO PKD
// LDIF file. A master list whose signature fails refuses the whole file.
func (s *Store) loadLDIF(r *LoadReport, b []byte) error {
	l, err := ParseLDIF(b)
	if err != nil {
		return err
	}
	var certs []*Certificate
	for _, der := range l.Certificates {
		c, err := ParseCertificate(der)
		if err != nil {
			r.Skipped++
			r.Warnings = append(r.Warnings, err.Error())
			continue
		}
		certs = append(certs, c)
	}
	var lists []*MasterList
	for i, der := range l.MasterLists {
		ml, err := ParseMasterList(der)
		if err == nil {
			_, err = ml.Verify()
		}
		if err != nil {
			return fmt.Errorf("master list %d: %w", i+1, err)
		}
		lists = append(lists, ml)
	}
	s.addAll(r, certs, checkNow)
	for _, ml := range lists {
		if err := s.loadMasterList(r, ml.SignedData.Raw); err != nil {
			return err
		}
	}
	for _, der := range l.CRLs {
		if err := s.loadCRL(r, r.Path, der); err != nil {
			return err
		}
	}
	return nil
}

// loadCRL takes a CRL whose signature a loaded CSCA verifies; one whose
// issuer is not loaded waits for a later load; one whose signature fails
// is refused.
func (s *Store) loadCRL(r *LoadReport, path string, b []byte) error {
	crl, err := ParseCRL(b)
	if err != nil {
		return err
	}
	issuer, err := s.crlIssuer(crl)
	if err != nil {
		return err
	}
	if issuer == nil {
		s.pending = append(s.pending, pendingCRL{crl: crl, path: path})
		r.Warnings = append(r.Warnings, fmt.Sprintf("CRL issuer %v not loaded; CRL not used", crl.Issuer))
		return nil
	}
	if !crl.NextUpdate.IsZero() && s.now().After(crl.NextUpdate) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("CRL of %v is past its nextUpdate %s", crl.Issuer, crl.NextUpdate.Format(time.DateOnly)))
	}
	s.crls = append(s.crls, crl)
	r.CRLs++
	return nil
}

// AddCRL adds a CRL whose signature a loaded CSCA verifies; it fails when
// no CSCA of the CRL's issuer is loaded or the signature does not verify.
func (s *Store) AddCRL(crl *CRL) error {
	issuer, err := s.crlIssuer(crl)
	if err != nil {
		return err
	}
	if issuer == nil {
		return fmt.Errorf("pki: CRL issuer %v not loaded", crl.Issuer)
	}
	s.crls = append(s.crls, crl)
	return nil
}

// crlIssuer returns the loaded CSCA that signed the CRL, nil when none of
// its name is loaded, or the error of the signature check.
func (s *Store) crlIssuer(crl *CRL) (*Certificate, error) {
	var last error
	for _, c := range s.bySubject[crl.Issuer.Key()] {
		if crl.AuthorityKeyID != nil && c.SubjectKeyID != nil && string(crl.AuthorityKeyID) != string(c.SubjectKeyID) {
			continue
		}
		if last = crl.CheckSignatureFrom(c); last == nil {
			return c, nil
		}
	}
	if last != nil {
		return nil, fmt.Errorf("CRL signature: %w", last)
	}
	return nil, nil
}

// retryPending takes the CRLs whose issuers have been loaded since.
func (s *Store) retryPending() []LoadReport {
	var reports []LoadReport
	var still []pendingCRL
	for _, p := range s.pending {
		issuer, err := s.crlIssuer(p.crl)
		if issuer == nil {
			if err == nil {
				still = append(still, p)
			}
			continue
		}
		s.crls = append(s.crls, p.crl)
		reports = append(reports, LoadReport{Path: p.path, Kind: KindCRL, CRLs: 1,
			Warnings: []string{"issuer loaded by a later trust path; CRL now used"}})
	}
	s.pending = still
	return reports
}
