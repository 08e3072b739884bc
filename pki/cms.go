package pki

import (
	"encoding/asn1"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of CMS (RFC 5652 §4, §5, §11) and of the eMRTD
// content types (9303-10 §4.6.2, 9303-12 §9).
var (
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}

	// OIDLDSSecurityObject is the eContentType of EF.SOD (9303-10 §4.6.2).
	OIDLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	// OIDCSCAMasterList is the eContentType of a CSCA master list
	// (9303-12 §9).
	OIDCSCAMasterList = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}
)

// maxCMSCertificates bounds the certificates of a SignedData other than a
// master list's content; EF.SOD carries one.
const maxCMSCertificates = 64

// SignedData is a parsed CMS SignedData (RFC 5652 §5.1): EF.SOD, a CSCA
// master list or EF.CardSecurity.
type SignedData struct {
	// Raw is the DER ContentInfo, converted from BER where the input used
	// indefinite lengths.
	Raw []byte
	// ContentType is eContentType: the LDS security object, id-data (which
	// some States declare for EF.SOD), a master list.
	ContentType asn1.ObjectIdentifier
	// Content is eContent's octets, the signed content; nil when detached.
	Content []byte
	// Certificates are the certificates that parsed; CertificateErrors
	// the errors of those that did not (an unknown curve is
	// [ErrUnsupported]), in order.
	Certificates      []*Certificate
	CertificateErrors []error
	// Signers are the SignerInfos; an eMRTD SignedData has one.
	Signers []SignerInfo
}

// SignerInfo is one signer of a [SignedData] (RFC 5652 §5.3).
type SignerInfo struct {
	// Issuer and SerialNumber name the signer's certificate when sid is
	// issuerAndSerialNumber; SubjectKeyID when sid is
	// subjectKeyIdentifier.
	Issuer       Name
	SerialNumber *big.Int
	SubjectKeyID []byte
	// DigestAlgorithm hashes the content; its hash also completes a bare
	// rsaEncryption SignatureAlgorithm.
	DigestAlgorithm    AlgorithmIdentifier
	SignatureAlgorithm AlgorithmIdentifier
	Signature          []byte
	// SignedAttributes is the DER SET OF Attribute that the signature
	// covers (the [0] IMPLICIT tag replaced by SET, §5.4); nil when the
	// signature covers the content itself.
	SignedAttributes []byte
	// MessageDigest, ContentType and SigningTime are the signed
	// attributes of those types; SigningTime is zero when absent.
	MessageDigest []byte
	ContentType   asn1.ObjectIdentifier
	SigningTime   time.Time
}

// ParseSignedData parses a CMS ContentInfo holding SignedData, in DER or
// BER, optionally inside EF.SOD's application tag 0x77 (9303-10 §4.6.2).
// Certificates that do not parse are kept as errors, not refused, since a
// master list or EF.SOD may carry one this package cannot use; which one
// signed is decided by [SignedData.Verify].
func ParseSignedData(b []byte) (*SignedData, error) {
	der, err := berToDER(b)
	if err != nil {
		return nil, err
	}
	s := cryptobyte.String(der)
	if len(der) > 0 && der[0] == 0x77 {
		var body cryptobyte.String
		if !s.ReadASN1(&body, cbasn1.Tag(0x77)) || !s.Empty() {
			return nil, fmt.Errorf("%w: EF.SOD tag", ErrMalformed)
		}
		s = body
	}
	raw := append([]byte(nil), s...)
	var ci, wrapped, sd cryptobyte.String
	var ct asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !s.Empty() || !ci.ReadASN1ObjectIdentifier(&ct) {
		return nil, fmt.Errorf("%w: ContentInfo", ErrMalformed)
	}
	if !ct.Equal(oidSignedData) {
		return nil, fmt.Errorf("%w: content type %v is not signedData", ErrUnsupported, ct)
	}
	if !ci.ReadASN1(&wrapped, cbasn1.Tag(0).Constructed().ContextSpecific()) || !ci.Empty() ||
		!wrapped.ReadASN1(&sd, cbasn1.SEQUENCE) || !wrapped.Empty() {
		return nil, fmt.Errorf("%w: ContentInfo content", ErrMalformed)
	}
	out := &SignedData{Raw: raw}
	if err := out.parse(sd); err != nil {
		return nil, err
	}
	return out, nil
}

func (d *SignedData) parse(sd cryptobyte.String) error {
	var version int64
	var digestAlgs, encap cryptobyte.String
	if !sd.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) ||
		!sd.ReadASN1(&encap, cbasn1.SEQUENCE) || !encap.ReadASN1ObjectIdentifier(&d.ContentType) {
		return fmt.Errorf("%w: SignedData", ErrMalformed)
	}
	if !encap.Empty() {
		var explicit cryptobyte.String
		if !encap.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !encap.Empty() ||
			!explicit.ReadASN1Bytes(&d.Content, cbasn1.OCTET_STRING) || !explicit.Empty() {
			return fmt.Errorf("%w: eContent", ErrMalformed)
		}
	}
	var certs, infos cryptobyte.String
	var present bool
	if !sd.ReadOptionalASN1(&certs, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || // crls
		!sd.ReadASN1(&infos, cbasn1.SET) || !sd.Empty() {
		return fmt.Errorf("%w: SignedData", ErrMalformed)
	}
	if err := d.parseCertificates(certs); err != nil {
		return err
	}
	for !infos.Empty() {
		var info cryptobyte.String
		if !infos.ReadASN1(&info, cbasn1.SEQUENCE) {
			return fmt.Errorf("%w: SignerInfo", ErrMalformed)
		}
		si, err := parseSignerInfo(info)
		if err != nil {
			return err
		}
		d.Signers = append(d.Signers, si)
	}
	return nil
}

func (d *SignedData) parseCertificates(certs cryptobyte.String) error {
	for !certs.Empty() {
		var elem cryptobyte.String
		var tag cbasn1.Tag
		if !certs.ReadAnyASN1Element(&elem, &tag) {
			return fmt.Errorf("%w: CertificateSet", ErrMalformed)
		}
		if tag != cbasn1.SEQUENCE {
			continue // attribute certificates and other formats (RFC 5652 §10.2.2)
		}
		if len(d.Certificates)+len(d.CertificateErrors) >= maxCMSCertificates {
			return fmt.Errorf("%w: more than %d certificates", ErrUnsupported, maxCMSCertificates)
		}
		c, err := ParseCertificate(elem)
		if err != nil {
			d.CertificateErrors = append(d.CertificateErrors, err)
			continue
		}
		d.Certificates = append(d.Certificates, c)
	}
	return nil
}

func parseSignerInfo(info cryptobyte.String) (SignerInfo, error) {
	var si SignerInfo
	var version int64
	if !info.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return si, fmt.Errorf("%w: SignerInfo version", ErrMalformed)
	}
	switch {
	case info.PeekASN1Tag(cbasn1.SEQUENCE):
		var ias cryptobyte.String
		var err error
		if !info.ReadASN1(&ias, cbasn1.SEQUENCE) {
			return si, fmt.Errorf("%w: IssuerAndSerialNumber", ErrMalformed)
		}
		if si.Issuer, err = readName(&ias); err != nil {
			return si, err
		}
		if si.SerialNumber, err = readSerial(&ias); err != nil || !ias.Empty() {
			return si, fmt.Errorf("%w: IssuerAndSerialNumber", ErrMalformed)
		}
	case info.PeekASN1Tag(cbasn1.Tag(0).ContextSpecific()):
		if !info.ReadASN1Bytes(&si.SubjectKeyID, cbasn1.Tag(0).ContextSpecific()) {
			return si, fmt.Errorf("%w: SubjectKeyIdentifier", ErrMalformed)
		}
	default:
		return si, fmt.Errorf("%w: SignerIdentifier", ErrMalformed)
	}
	var err error
	if si.DigestAlgorithm, err = readAlgorithm(&info); err != nil {
		return si, err
	}
	if info.PeekASN1Tag(cbasn1.Tag(0).Constructed().ContextSpecific()) {
		var elem cryptobyte.String
		if !info.ReadASN1Element(&elem, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			return si, fmt.Errorf("%w: signedAttrs", ErrMalformed)
		}
		si.SignedAttributes = append([]byte{0x31}, elem[1:]...)
		if err := si.parseAttributes(); err != nil {
			return si, err
		}
	}
	if si.SignatureAlgorithm, err = readAlgorithm(&info); err != nil {
		return si, err
	}
	if !info.ReadASN1Bytes(&si.Signature, cbasn1.OCTET_STRING) ||
		!info.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) || !info.Empty() {
		return si, fmt.Errorf("%w: SignerInfo", ErrMalformed)
	}
	return si, nil
}

// parseAttributes reads contentType, messageDigest and signingTime from
// the signed attributes; each must have one value (RFC 5652 §11).
func (si *SignerInfo) parseAttributes() error {
	s := cryptobyte.String(si.SignedAttributes)
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) || !s.Empty() {
		return fmt.Errorf("%w: signedAttrs", ErrMalformed)
	}
	seen := map[string]bool{}
	for !set.Empty() {
		var attr, values, value cryptobyte.String
		var typ asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&typ) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return fmt.Errorf("%w: Attribute", ErrMalformed)
		}
		if seen[typ.String()] {
			return fmt.Errorf("%w: signed attribute %v twice", ErrMalformed, typ)
		}
		seen[typ.String()] = true
		value = values
		var ok bool
		switch {
		case typ.Equal(oidAttrContentType):
			ok = value.ReadASN1ObjectIdentifier(&si.ContentType) && value.Empty()
		case typ.Equal(oidAttrMessageDigest):
			ok = value.ReadASN1Bytes(&si.MessageDigest, cbasn1.OCTET_STRING) && value.Empty()
		case typ.Equal(oidAttrSigningTime):
			var err error
			si.SigningTime, err = readTime(&value)
			ok = err == nil && value.Empty()
		default:
			ok = true
		}
		if !ok {
			return fmt.Errorf("%w: signed attribute %v", ErrMalformed, typ)
		}
	}
	return nil
}
