package pki

import (
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// maxMasterList bounds the certificates of a master list; the German list
// of 2026 holds about 700.
const maxMasterList = 1 << 14

// MasterList is a CSCA master list (9303-12 §9): a SignedData whose
// content is CscaMasterList ::= SEQUENCE { version INTEGER, certList SET
// OF Certificate }, signed by a master list signer that a CSCA of the
// publishing State issued.
type MasterList struct {
	// SignedData is the signed envelope; [SignedData.Verify] checks it.
	SignedData *SignedData
	// Version is CscaMasterListVersion, 0.
	Version int
	// Certificates are the certificates of certList that parsed;
	// CertificateErrors say why the others did not (an unknown curve is
	// [ErrUnsupported]).
	Certificates      []*Certificate
	CertificateErrors []error
}

// ParseMasterList parses a master list file (DER or BER CMS). It does not
// verify the signature; see [MasterList.Verify].
func ParseMasterList(b []byte) (*MasterList, error) {
	sd, err := ParseSignedData(b)
	if err != nil {
		return nil, err
	}
	if !sd.ContentType.Equal(OIDCSCAMasterList) {
		return nil, fmt.Errorf("%w: content type %v is not a CSCA master list", ErrUnsupported, sd.ContentType)
	}
	ml := &MasterList{SignedData: sd}
	s := cryptobyte.String(sd.Content)
	var seq, set cryptobyte.String
	var version int64
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) ||
		!seq.ReadASN1(&set, cbasn1.SET) || !seq.Empty() {
		return nil, fmt.Errorf("%w: CscaMasterList", ErrMalformed)
	}
	if version != 0 {
		return nil, fmt.Errorf("%w: CscaMasterList version %d", ErrUnsupported, version)
	}
	for !set.Empty() {
		var elem cryptobyte.String
		if !set.ReadASN1Element(&elem, cbasn1.SEQUENCE) {
			return nil, fmt.Errorf("%w: certList", ErrMalformed)
		}
		if len(ml.Certificates)+len(ml.CertificateErrors) >= maxMasterList {
			return nil, fmt.Errorf("%w: more than %d certificates", ErrUnsupported, maxMasterList)
		}
		c, err := ParseCertificate(elem)
		if err != nil {
			ml.CertificateErrors = append(ml.CertificateErrors, err)
			continue
		}
		ml.Certificates = append(ml.Certificates, c)
	}
	return ml, nil
}

// Verify checks the master list's signature and returns its signer's
// certificate (see [SignedData.Verify]). Whether the signer chains to a
// trusted CSCA is [Store]'s to say.
func (m *MasterList) Verify() (*Certificate, error) { return m.SignedData.Verify() }
