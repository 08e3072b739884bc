package pki

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxRevoked bounds the entries of a CRL; the largest State CRLs list a
// few thousand DS certificates.
const maxRevoked = 1 << 20

var oidCRLNumber = asn1.ObjectIdentifier{2, 5, 29, 20}

// CRL is a parsed certificate revocation list (RFC 5280 §5), which a CSCA
// issues for its DS certificates (9303-12 §7.1.4).
type CRL struct {
	// Raw is the DER CertificateList; RawTBSCertList the signed part.
	Raw, RawTBSCertList []byte
	Issuer              Name
	// ThisUpdate is the issue date; NextUpdate zero when absent.
	ThisUpdate, NextUpdate time.Time
	// Revoked lists the revoked certificates.
	Revoked []RevokedCertificate
	// AuthorityKeyID is the issuing CSCA's key identifier, nil when
	// absent; Number the cRLNumber, nil when absent.
	AuthorityKeyID []byte
	Number         *big.Int
	// SignatureAlgorithm and Signature are the issuer's signature over
	// RawTBSCertList.
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte
}

// RevokedCertificate is one entry of a [CRL].
type RevokedCertificate struct {
	SerialNumber   *big.Int
	RevocationDate time.Time
}

// ParseCRL parses a CRL in DER or PEM ("X509 CRL").
func ParseCRL(b []byte) (*CRL, error) {
	der, err := pemOrDER(b, "X509 CRL")
	if err != nil {
		return nil, err
	}
	in := cryptobyte.String(bytes.Clone(der))
	var list, tbsRaw cryptobyte.String
	raw := []byte(in)
	if !in.ReadASN1(&list, cbasn1.SEQUENCE) || !in.Empty() || !list.ReadASN1Element(&tbsRaw, cbasn1.SEQUENCE) {
		return nil, fmt.Errorf("%w: CertificateList", ErrMalformed)
	}
	c := &CRL{Raw: raw, RawTBSCertList: tbsRaw}
	if c.SignatureAlgorithm, err = readAlgorithm(&list); err != nil {
		return nil, err
	}
	var sig asn1.BitString
	if !list.ReadASN1BitString(&sig) || sig.BitLength%8 != 0 || !list.Empty() {
		return nil, fmt.Errorf("%w: CRL signatureValue", ErrMalformed)
	}
	c.Signature = sig.Bytes
	if err := c.parseTBS(tbsRaw); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CRL) parseTBS(raw cryptobyte.String) error {
	var tbs cryptobyte.String
	if !raw.ReadASN1(&tbs, cbasn1.SEQUENCE) {
		return fmt.Errorf("%w: TBSCertList", ErrMalformed)
	}
	if tbs.PeekASN1Tag(cbasn1.INTEGER) {
		var v int64
		if !tbs.ReadASN1Int64WithTag(&v, cbasn1.INTEGER) || v != 1 {
			return fmt.Errorf("%w: CRL version", ErrMalformed)
		}
	}
	inner, err := readAlgorithm(&tbs)
	if err != nil {
		return err
	}
	if !inner.equivalent(c.SignatureAlgorithm) {
		return fmt.Errorf("%w: CRL signature algorithm differs inside and outside", ErrMalformed)
	}
	if c.Issuer, err = readName(&tbs); err != nil {
		return fmt.Errorf("CRL issuer: %w", err)
	}
	if c.ThisUpdate, err = readTime(&tbs); err != nil {
		return err
	}
	if tbs.PeekASN1Tag(cbasn1.UTCTime) || tbs.PeekASN1Tag(cbasn1.GeneralizedTime) {
		if c.NextUpdate, err = readTime(&tbs); err != nil {
			return err
		}
	}
	if tbs.PeekASN1Tag(cbasn1.SEQUENCE) {
		var entries cryptobyte.String
		if !tbs.ReadASN1(&entries, cbasn1.SEQUENCE) {
			return fmt.Errorf("%w: revokedCertificates", ErrMalformed)
		}
		if err := c.parseEntries(entries); err != nil {
			return err
		}
	}
	var exts cryptobyte.String
	var present bool
	if !tbs.ReadOptionalASN1(&exts, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) || !tbs.Empty() {
		return fmt.Errorf("%w: TBSCertList trailing fields", ErrMalformed)
	}
	if present {
		return c.parseExtensions(exts)
	}
	return nil
}

func (c *CRL) parseEntries(entries cryptobyte.String) error {
	for !entries.Empty() {
		var e cryptobyte.String
		var r RevokedCertificate
		var err error
		if !entries.ReadASN1(&e, cbasn1.SEQUENCE) {
			return fmt.Errorf("%w: CRL entry", ErrMalformed)
		}
		if r.SerialNumber, err = readSerial(&e); err != nil {
			return err
		}
		if r.RevocationDate, err = readTime(&e); err != nil {
			return err
		}
		if !e.SkipOptionalASN1(cbasn1.SEQUENCE) || !e.Empty() { // crlEntryExtensions
			return fmt.Errorf("%w: CRL entry", ErrMalformed)
		}
		if len(c.Revoked) >= maxRevoked {
			return fmt.Errorf("%w: more than %d CRL entries", ErrUnsupported, maxRevoked)
		}
		c.Revoked = append(c.Revoked, r)
	}
	return nil
}

// parseExtensions reads the authorityKeyIdentifier and cRLNumber
// (RFC 5280 §5.2.1, §5.2.3) with the certificate's extension reader.
func (c *CRL) parseExtensions(exts cryptobyte.String) error {
	var holder Certificate
	if err := holder.parseExtensions(exts); err != nil {
		return err
	}
	c.AuthorityKeyID = holder.AuthorityKeyID
	for _, e := range holder.Extensions {
		if e.ID.Equal(oidCRLNumber) {
			v := cryptobyte.String(e.Value)
			n := new(big.Int)
			if !v.ReadASN1Integer(n) || !v.Empty() {
				return fmt.Errorf("%w: cRLNumber", ErrMalformed)
			}
			c.Number = n
		}
	}
	return nil
}

// CheckSignatureFrom checks that issuer signed the CRL: issuer's keyUsage,
// when present, has cRLSign (RFC 5280 §4.2.1.3) and its key verifies the
// signature.
func (c *CRL) CheckSignatureFrom(issuer *Certificate) error {
	if issuer.KeyUsage != 0 && issuer.KeyUsage&KeyUsageCRLSign == 0 {
		return fmt.Errorf("%w: %v lacks keyUsage cRLSign", ErrNotCA, issuer.Subject)
	}
	return VerifySignature(issuer.PublicKey, c.SignatureAlgorithm, c.RawTBSCertList, c.Signature)
}

// Revokes reports whether the CRL lists the serial number, and when.
func (c *CRL) Revokes(serial *big.Int) (time.Time, bool) {
	for _, r := range c.Revoked {
		if r.SerialNumber.Cmp(serial) == 0 {
			return r.RevocationDate, true
		}
	}
	return time.Time{}, false
}

// pemOrDER returns the DER of b: the first PEM block of the type when b is
// PEM, else b itself.
func pemOrDER(b []byte, typ string) ([]byte, error) {
	trimmed := bytes.TrimSpace(b)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN")) {
		return b, nil
	}
	for rest := trimmed; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			return nil, fmt.Errorf("%w: no PEM block %q", ErrMalformed, typ)
		}
		if blk.Type == typ {
			return blk.Bytes, nil
		}
	}
}
