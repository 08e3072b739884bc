package vchip

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"slices"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Object identifiers of EF.CardSecurity's CMS structure (RFC 5652 §5;
// BSI TR-03110-3 §A.1.2.5; 9303-11 §9.2.11).
var (
	oidSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidSecurityObject  = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 3, 2, 1} // id-SecurityObject
	oidContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
)

// buildCardSecurity returns EF.CardSecurity (9303-11 §9.2.11): a
// ContentInfo with a SignedData whose encapsulated content, of type
// id-SecurityObject, is the DER SecurityInfos, signed with ECDSA and
// SHA-256 by the document signer key whose certificate is included, as
// EF.SOD is.
func buildCardSecurity(infos []byte, cert *x509.Certificate, key *ecdsa.PrivateKey, rnd io.Reader) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	digestAlg, err := derSeq(oidSHA256)
	if err != nil {
		return nil, err
	}
	contentDigest := sha256Sum(infos)
	attrs, err := signedAttrs(contentDigest)
	if err != nil {
		return nil, err
	}
	sig, err := ecdsa.SignASN1(rnd, key, sha256Sum(attrs))
	if err != nil {
		return nil, fmt.Errorf("%w: EF.CardSecurity: %w", ErrSpecimen, err)
	}
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return nil, fmt.Errorf("%w: EF.CardSecurity: %w", ErrSpecimen, err)
	}
	sigAlg, err := derSeq(oidECDSAWithSHA256)
	if err != nil {
		return nil, err
	}
	attrs[0] = 0xA0 // [0] IMPLICIT SET OF Attribute
	version1, _ := asn1.Marshal(1)
	version3, _ := asn1.Marshal(3)
	contentType, _ := asn1.Marshal(oidSecurityObject)
	signer := cat(0x30, version1, cat(0x30, cert.RawIssuer, serial), digestAlg, attrs, sigAlg, tlv.Encode(0x04, sig))
	encap := cat(0x30, contentType, tlv.Encode(0xA0, tlv.Encode(0x04, infos)))
	signedData := cat(0x30, version3, tlv.Encode(0x31, digestAlg), encap, tlv.Encode(0xA0, cert.Raw), tlv.Encode(0x31, signer))
	signedDataOID, _ := asn1.Marshal(oidSignedData)
	return cat(0x30, signedDataOID, tlv.Encode(0xA0, signedData)), nil
}

// signedAttrs returns the DER SET OF the content type and message digest
// attributes, sorted as DER requires of a SET OF (X.690 §11.6).
func signedAttrs(digest []byte) ([]byte, error) {
	ct, err := asn1.Marshal(oidSecurityObject)
	if err != nil {
		return nil, err
	}
	ctOID, _ := asn1.Marshal(oidContentType)
	mdOID, _ := asn1.Marshal(oidMessageDigest)
	attrs := [][]byte{
		cat(0x30, ctOID, tlv.Encode(0x31, ct)),
		cat(0x30, mdOID, tlv.Encode(0x31, tlv.Encode(0x04, digest))),
	}
	slices.SortFunc(attrs, bytes.Compare)
	return tlv.Encode(0x31, bytes.Join(attrs, nil)), nil
}

// cat encodes the concatenated parts under tag.
func cat(tag tlv.Tag, parts ...[]byte) []byte { return tlv.Encode(tag, bytes.Join(parts, nil)) }

func sha256Sum(b []byte) []byte {
	h := crypto.SHA256.New()
	h.Write(b)
	return h.Sum(nil)
}
