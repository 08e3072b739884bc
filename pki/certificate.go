package pki

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificate is a parsed X.509 certificate (RFC 5280 §4.1) of the eMRTD
// PKI. A trust store indexes CSCAs by [Name.Key] of Subject and by
// SubjectKeyID, and finds a certificate's issuer by Issuer and
// AuthorityKeyID.
type Certificate struct {
	// Raw is the whole DER certificate; RawTBSCertificate the signed part.
	Raw, RawTBSCertificate []byte
	// Version is 1, 2 or 3.
	Version int
	// SerialNumber may be zero or negative: some States issue such
	// certificates, which RFC 5280 §4.1.2.2 forbids and crypto/x509 refuses.
	SerialNumber *big.Int
	// Issuer and Subject are the distinguished names; Name.Raw holds
	// their DER.
	Issuer, Subject Name
	// NotBefore and NotAfter bound the validity period.
	NotBefore, NotAfter time.Time
	// PublicKey is the subject's key.
	PublicKey *PublicKey
	// SignatureAlgorithm and Signature are the issuer's signature over
	// RawTBSCertificate.
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte

	// SubjectKeyID and AuthorityKeyID are the key identifiers (RFC 5280
	// §4.2.1.1, §4.2.1.2), nil when absent.
	SubjectKeyID, AuthorityKeyID []byte
	// BasicConstraintsValid reports that the certificate has
	// basicConstraints; IsCA is its cA flag and MaxPathLen its
	// pathLenConstraint, −1 when absent.
	BasicConstraintsValid bool
	IsCA                  bool
	MaxPathLen            int
	// KeyUsage holds the keyUsage bits, 0 when the extension is absent.
	KeyUsage KeyUsage
	// Extensions are all extensions, in order.
	Extensions []Extension
}

// Extension is a certificate extension (RFC 5280 §4.1.2.9).
type Extension struct {
	ID       asn1.ObjectIdentifier
	Critical bool
	// Value is the content of extnValue.
	Value []byte
}

// KeyUsage is the keyUsage extension's bits (RFC 5280 §4.2.1.3).
type KeyUsage uint16

// Key usages; 9303-12 §7.1.1 requires keyCertSign and cRLSign of a CSCA
// and digitalSignature of a DS.
const (
	KeyUsageDigitalSignature KeyUsage = 1 << iota
	KeyUsageNonRepudiation
	KeyUsageKeyEncipherment
	KeyUsageDataEncipherment
	KeyUsageKeyAgreement
	KeyUsageCertSign
	KeyUsageCRLSign
	KeyUsageEncipherOnly
	KeyUsageDecipherOnly
)

var (
	oidSubjectKeyID     = asn1.ObjectIdentifier{2, 5, 29, 14}
	oidKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}
	oidAuthorityKeyID   = asn1.ObjectIdentifier{2, 5, 29, 35}
)

// ParseCertificate parses one DER certificate. Besides what crypto/x509
// accepts it takes explicit EC parameters of standardized curves, brainpool
// and P-192 keys, zero, negative or non-minimally encoded serial numbers
// and RSA keys without NULL parameters. A key on an unknown curve or of an
// unknown algorithm is [ErrUnsupported]; anything structurally wrong is
// [ErrMalformed].
//
// The Certificate's byte slices refer to a copy of der.
func ParseCertificate(der []byte) (*Certificate, error) {
	der = bytes.Clone(der)
	in := cryptobyte.String(der)
	var cert, tbsRaw cryptobyte.String
	if !in.ReadASN1(&cert, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, fmt.Errorf("%w: certificate is not one DER SEQUENCE", ErrMalformed)
	}
	if !cert.ReadASN1Element(&tbsRaw, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: TBSCertificate", ErrMalformed)
	}
	c := &Certificate{Raw: der, RawTBSCertificate: tbsRaw, MaxPathLen: -1}
	var err error
	if c.SignatureAlgorithm, err = readAlgorithm(&cert); err != nil {
		return nil, err
	}
	var sig asn1.BitString
	if !cert.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 || !cert.Empty() {
		return nil, fmt.Errorf("%w: signatureValue", ErrMalformed)
	}
	c.Signature = sig.Bytes
	inner, err := c.parseTBS(tbsRaw)
	if err != nil {
		return nil, err
	}
	if !inner.equivalent(c.SignatureAlgorithm) {
		return nil, fmt.Errorf("%w: signature algorithm differs inside and outside the TBSCertificate", ErrMalformed)
	}
	return c, nil
}

// parseTBS fills c from the TBSCertificate and returns its signature
// AlgorithmIdentifier.
func (c *Certificate) parseTBS(raw cryptobyte.String) (AlgorithmIdentifier, error) {
	var tbs cryptobyte.String
	if !raw.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return AlgorithmIdentifier{}, fmt.Errorf("%w: TBSCertificate", ErrMalformed)
	}
	c.Version = 1
	var version int64
	if !tbs.ReadOptionalASN1Integer(&version, cbasn1.Tag(0).Constructed().ContextSpecific(), int64(0)) || version < 0 || version > 2 {
		return AlgorithmIdentifier{}, fmt.Errorf("%w: version", ErrMalformed)
	}
	c.Version = int(version) + 1
	var err error
	if c.SerialNumber, err = readSerial(&tbs); err != nil {
		return AlgorithmIdentifier{}, err
	}
	inner, err := readAlgorithm(&tbs)
	if err != nil {
		return AlgorithmIdentifier{}, err
	}
	if c.Issuer, err = readName(&tbs); err != nil {
		return AlgorithmIdentifier{}, fmt.Errorf("issuer: %w", err)
	}
	if c.NotBefore, c.NotAfter, err = readValidity(&tbs); err != nil {
		return AlgorithmIdentifier{}, err
	}
	if c.Subject, err = readName(&tbs); err != nil {
		return AlgorithmIdentifier{}, fmt.Errorf("subject: %w", err)
	}
	if c.PublicKey, err = readPublicKey(&tbs); err != nil {
		return AlgorithmIdentifier{}, err
	}
	for _, tag := range []cbasn1.Tag{cbasn1.Tag(1).ContextSpecific(), cbasn1.Tag(2).ContextSpecific()} {
		if !tbs.SkipOptionalASN1(tag) { // issuerUniqueID, subjectUniqueID
			return AlgorithmIdentifier{}, fmt.Errorf("%w: unique identifier", ErrMalformed)
		}
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(3).Constructed().ContextSpecific()) || !tbs.Empty() {
		return AlgorithmIdentifier{}, fmt.Errorf("%w: TBSCertificate trailing fields", ErrMalformed)
	}
	if present {
		if c.Version != 3 {
			return AlgorithmIdentifier{}, fmt.Errorf("%w: extensions in a version %d certificate", ErrMalformed, c.Version)
		}
		if err := c.parseExtensions(exts); err != nil {
			return AlgorithmIdentifier{}, err
		}
	}
	return inner, nil
}

// readSerial reads the serial number as a two's complement integer of any
// encoding, minimal or not (some CSCAs pad it with zero bytes).
func readSerial(s *cryptobyte.String) (*big.Int, error) {
	var b []byte
	if !s.ReadASN1Bytes(&b, cbasn1.INTEGER) || len(b) == 0 || len(b) > 64 {
		return nil, fmt.Errorf("%w: serial number", ErrMalformed)
	}
	v := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return v, nil
}

// readValidity reads Validity { notBefore Time, notAfter Time }.
func readValidity(s *cryptobyte.String) (notBefore, notAfter time.Time, err error) {
	var v cryptobyte.String
	if !s.ReadASN1(&v, cbasn1.SEQUENCE) {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: validity", ErrMalformed)
	}
	if notBefore, err = readTime(&v); err != nil {
		return
	}
	if notAfter, err = readTime(&v); err != nil {
		return
	}
	if !v.Empty() {
		err = fmt.Errorf("%w: validity", ErrMalformed)
	}
	return
}

// readTime reads a UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5).
func readTime(s *cryptobyte.String) (time.Time, error) {
	var t time.Time
	switch {
	case s.PeekASN1Tag(cbasn1.UTCTime):
		if s.ReadASN1UTCTime(&t) {
			return t, nil
		}
	case s.PeekASN1Tag(cbasn1.GeneralizedTime):
		if s.ReadASN1GeneralizedTime(&t) {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: time", ErrMalformed)
}

// ValidAt reports whether t lies within the validity period, both ends
// included (RFC 5280 §4.1.2.5).
func (c *Certificate) ValidAt(t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

// SelfSigned reports whether the certificate names itself as issuer (a
// CSCA; a link certificate names the previous CSCA key). It says nothing
// about the signature; see [Certificate.CheckSignatureFrom].
func (c *Certificate) SelfSigned() bool {
	if !c.Issuer.Equal(c.Subject) {
		return false
	}
	return c.AuthorityKeyID == nil || c.SubjectKeyID == nil || string(c.AuthorityKeyID) == string(c.SubjectKeyID)
}
