package icao

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // hash functions an EF.SOD may name
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
	"math/big"
	"strconv"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// tagSOD is EF.SOD's application tag (9303-10 §4.6.2).
const tagSOD tlv.Tag = 0x77

// maxCertificates bounds the certificates EF.SOD may carry.
const maxCertificates = 16

// Object identifiers of EF.SOD (RFC 5652, RFC 5754, 9303-10 §4.6.2).
var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	oidData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidContentTypeAttr   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigestAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
)

// hashOIDs lists the hash algorithms an LDS security object may use.
var hashOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, crypto.SHA224},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384},
	{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512},
}

func hashByOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	for _, h := range hashOIDs {
		if h.oid.Equal(oid) {
			return h.hash, true
		}
	}
	return 0, false
}

// Errors of [SOD.Check] and [SOD.VerifySignature].
var (
	ErrHashMismatch         = errors.New("icao: data group hash does not match EF.SOD")
	ErrNoHash               = errors.New("icao: EF.SOD holds no hash for the data group")
	ErrSignature            = errors.New("icao: EF.SOD signature does not verify")
	ErrNoSignerCertificate  = errors.New("icao: EF.SOD holds no usable document signer certificate")
	ErrUnsupportedAlgorithm = errors.New("icao: unsupported algorithm")
)

// HashError reports a data group whose hash EF.SOD lacks or contradicts.
type HashError struct {
	DataGroup int
	Err       error // ErrNoHash or ErrHashMismatch
}

// Error reads like "icao: DG2 hash does not match EF.SOD".
func (e *HashError) Error() string {
	dg := "DG" + strconv.Itoa(e.DataGroup)
	if e.Err == ErrNoHash {
		return "icao: EF.SOD has no hash for " + dg
	}
	return "icao: " + dg + " hash does not match EF.SOD"
}

// Unwrap returns [ErrNoHash] or [ErrHashMismatch].
func (e *HashError) Unwrap() error { return e.Err }

// UnsupportedAlgorithmError names a hash, signature or public key algorithm,
// or an elliptic curve, that this package cannot use, such as the
// brainpool curves some issuers sign with.
type UnsupportedAlgorithmError struct {
	Algorithm string // a name such as "brainpoolP256r1", or a dotted OID
}

// Error reads like "icao: unsupported algorithm brainpoolP256r1".
func (e *UnsupportedAlgorithmError) Error() string {
	return "icao: unsupported algorithm " + e.Algorithm
}

// Unwrap returns [ErrUnsupportedAlgorithm].
func (e *UnsupportedAlgorithmError) Unwrap() error { return ErrUnsupportedAlgorithm }

// SOD is EF.SOD, the document security object: a CMS SignedData (RFC 5652)
// whose content is the LDS security object with the hash of every data
// group (9303-10 §4.6.2).
type SOD struct {
	HashAlgorithm crypto.Hash
	// Hashes maps data group numbers (1–16) to their hash values.
	Hashes map[int][]byte
	// LDSVersion ("0108") and UnicodeVersion are those of the
	// LDSVersionInfo of a version 1 security object; empty for version 0.
	LDSVersion, UnicodeVersion string
	// Certificates holds the certificates of the SignedData as DER, the
	// document signer certificate first in practice. They alias Raw.
	Certificates [][]byte
	Raw          []byte // the whole file

	content []byte // eContent, the DER LDSSecurityObject that is signed
	signer  signerInfo
}

// signerInfo is what signature verification needs from the SignerInfo.
type signerInfo struct {
	issuer        []byte   // DER Name of IssuerAndSerialNumber
	serial        *big.Int // nil when the signer is named by key identifier
	keyID         []byte
	digest        asn1.ObjectIdentifier
	signedAttrs   []byte // DER SET OF Attribute; nil when absent
	messageDigest []byte
	contentType   asn1.ObjectIdentifier
	sigAlg        asn1.ObjectIdentifier
	sigParams     []byte // encoded parameters; nil when absent
	signature     []byte
}

// ParseSOD parses EF.SOD. It reads BER, not only DER, because real
// security objects use indefinite lengths (US passports) and constructed
// OCTET STRINGs. The hash algorithm must be SHA-1, SHA-224, SHA-256,
// SHA-384 or SHA-512, else the error is an [*UnsupportedAlgorithmError];
// structural errors wrap [ErrMalformedLDS]. ParseSOD does not verify the
// signature; see [SOD.VerifySignature].
func ParseSOD(b []byte) (*SOD, error) {
	const file = "EF.SOD"
	raw, value, err := openFile(b, tagSOD, file)
	if err != nil {
		return nil, err
	}
	ci, err := only(value, 0x30, file)
	if err != nil {
		return nil, err
	}
	f := fieldsOf(ci.Value, file)
	o, err := f.expect(0x06, "content type")
	if err != nil {
		return nil, err
	}
	if oid, err := berOID(o, file, "content type"); err != nil || !oid.Equal(oidSignedData) {
		return nil, malformed(file, "content is not SignedData")
	}
	wrap, err := f.expect(0xA0, "content")
	if err != nil {
		return nil, err
	}
	sd, err := only(wrap.Value, 0x30, file)
	if err != nil {
		return nil, err
	}
	s := &SOD{Raw: raw}
	if err := s.parseSignedData(sd.Value); err != nil {
		return nil, err
	}
	if err := s.parseSecurityObject(); err != nil {
		return nil, err
	}
	return s, nil
}

// parseSignedData reads SignedData (RFC 5652 §5.1).
func (s *SOD) parseSignedData(v []byte) error {
	const file = "EF.SOD"
	f := fieldsOf(v, file)
	if _, err := f.expect(0x02, "SignedData version"); err != nil {
		return err
	}
	if _, err := f.expect(0x31, "digest algorithms"); err != nil {
		return err
	}
	encap, err := f.expect(0x30, "encapsulated content")
	if err != nil {
		return err
	}
	if s.content, err = parseEncapsulated(encap.Value); err != nil {
		return err
	}
	certs, ok, err := f.optional(0xA0)
	if err != nil {
		return err
	}
	if ok {
		if s.Certificates, err = parseCertificateSet(certs.Value); err != nil {
			return err
		}
	}
	if _, _, err := f.optional(0xA1); err != nil { // CRLs
		return err
	}
	infos, err := f.expect(0x31, "signer infos")
	if err != nil {
		return err
	}
	first, _, err := tlv.Next(infos.Value)
	if err != nil || first.Tag != 0x30 {
		return malformed(file, "no SignerInfo")
	}
	return s.signer.parse(first.Value)
}

// parseEncapsulated returns the eContent of an EncapsulatedContentInfo,
// which must hold an LDS security object: declared as such, or as id-data,
// which some States' documents (CN) declare.
func parseEncapsulated(v []byte) ([]byte, error) {
	const file = "EF.SOD"
	f := fieldsOf(v, file)
	o, err := f.expect(0x06, "eContentType")
	if err != nil {
		return nil, err
	}
	if oid, err := berOID(o, file, "eContentType"); err != nil || !(oid.Equal(oidLDSSecurityObject) || oid.Equal(oidData)) {
		return nil, malformed(file, "content is not an LDS security object")
	}
	wrap, err := f.expect(0xA0, "eContent")
	if err != nil {
		return nil, err
	}
	octets, err := tlv.Decode(wrap.Value)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	return berOctets(octets, file, 0)
}

// parseCertificateSet returns the certificates (SEQUENCEs) of a
// CertificateSet, skipping the other CertificateChoices.
func parseCertificateSet(v []byte) ([][]byte, error) {
	objs, err := tlv.Children(v, maxCertificates)
	if err != nil {
		return nil, malformedTLV("EF.SOD", err)
	}
	var certs [][]byte
	for _, o := range objs {
		if o.Tag == 0x30 {
			certs = append(certs, o.Raw[:len(o.Raw):len(o.Raw)])
		}
	}
	return certs, nil
}

// parseSecurityObject reads the LDSSecurityObject (9303-10 §4.6.2.2).
func (s *SOD) parseSecurityObject() error {
	const file = "EF.SOD"
	so, err := tlv.DecodeExpect(s.content, 0x30)
	if err != nil {
		return malformedTLV(file, err)
	}
	f := fieldsOf(so.Value, file)
	o, err := f.expect(0x02, "security object version")
	if err != nil {
		return err
	}
	if version, ok := berUint(o.Value); !ok || version > 1 {
		return malformed(file, "security object version is not 0 or 1")
	}
	alg, err := f.expect(0x30, "hash algorithm")
	if err != nil {
		return err
	}
	oid, _, err := algorithmID(alg.Value, "hash algorithm")
	if err != nil {
		return err
	}
	var ok bool
	if s.HashAlgorithm, ok = hashByOID(oid); !ok {
		return &UnsupportedAlgorithmError{Algorithm: "hash " + oid.String()}
	}
	list, err := f.expect(0x30, "data group hash values")
	if err != nil {
		return err
	}
	if s.Hashes, err = parseHashes(list.Value, s.HashAlgorithm.Size()); err != nil {
		return err
	}
	info, ok, err := f.optional(0x30)
	if err != nil || !ok {
		return err
	}
	return s.parseVersionInfo(info.Value)
}

// parseHashes reads the SEQUENCE OF DataGroupHash.
func parseHashes(v []byte, size int) (map[int][]byte, error) {
	const file = "EF.SOD"
	entries, err := tlv.Children(v, 16)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	hashes := make(map[int][]byte, len(entries))
	for _, e := range entries {
		if e.Tag != 0x30 {
			return nil, malformed(file, "data group hash is not a SEQUENCE")
		}
		f := fieldsOf(e.Value, file)
		n, err := f.expect(0x02, "data group number")
		if err != nil {
			return nil, err
		}
		h, err := f.expect(0x04, "data group hash value")
		if err != nil {
			return nil, err
		}
		dg, ok := berUint(n.Value)
		switch {
		case !ok || dg < 1 || dg > 16:
			return nil, malformed(file, "data group number out of range")
		case hashes[dg] != nil:
			return nil, malformed(file, "data group hashed twice")
		case len(h.Value) != size:
			return nil, malformed(file, "hash value length does not fit the algorithm")
		}
		hashes[dg] = bytes.Clone(h.Value)
	}
	return hashes, nil
}

// parseVersionInfo reads LDSVersionInfo (9303-10 §4.6.2.2, LDS 1.8).
func (s *SOD) parseVersionInfo(v []byte) error {
	objs, err := tlv.Children(v, 2)
	if err != nil {
		return malformedTLV("EF.SOD", err)
	}
	if len(objs) != 2 || !printable(objs[0].Value) || !printable(objs[1].Value) {
		return malformed("EF.SOD", "bad LDS version info")
	}
	s.LDSVersion, s.UnicodeVersion = string(objs[0].Value), string(objs[1].Value)
	return nil
}

// algorithmID reads an AlgorithmIdentifier's OID and encoded parameters.
func algorithmID(v []byte, what string) (asn1.ObjectIdentifier, []byte, error) {
	const file = "EF.SOD"
	f := fieldsOf(v, file)
	o, err := f.expect(0x06, what)
	if err != nil {
		return nil, nil, err
	}
	oid, err := berOID(o, file, what)
	if err != nil {
		return nil, nil, err
	}
	if len(f.rest) == 0 {
		return oid, nil, nil
	}
	params, err := tlv.Decode(f.rest)
	if err != nil {
		return nil, nil, malformedTLV(file, err)
	}
	return oid, params.Raw, nil
}

// Check hashes a data group file with the security object's algorithm and
// compares the result with the hash EF.SOD holds. It returns nil or a
// [*HashError] wrapping [ErrNoHash] or [ErrHashMismatch].
func (s *SOD) Check(dg int, file []byte) error {
	want, ok := s.Hashes[dg]
	if !ok {
		return &HashError{DataGroup: dg, Err: ErrNoHash}
	}
	if !s.HashAlgorithm.Available() {
		return &UnsupportedAlgorithmError{Algorithm: s.HashAlgorithm.String()}
	}
	h := s.HashAlgorithm.New()
	h.Write(file)
	if !bytes.Equal(h.Sum(nil), want) {
		return &HashError{DataGroup: dg, Err: ErrHashMismatch}
	}
	return nil
}
