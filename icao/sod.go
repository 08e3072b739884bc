package icao

import (
	"bytes"
	"crypto"
	"encoding/asn1"
	"errors"
	"strconv"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/pki"
)

// tagSOD is EF.SOD's application tag (9303-10 §4.6.2).
const tagSOD tlv.Tag = 0x77

// oidData is id-data (RFC 5652 §4), which some States' EF.SOD (CN)
// declares as eContentType instead of the LDS security object.
var oidData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}

// Errors of [SOD.Check] and [ParseSOD].
var (
	ErrHashMismatch         = errors.New("icao: data group hash does not match EF.SOD")
	ErrNoHash               = errors.New("icao: EF.SOD holds no hash for the data group")
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

// UnsupportedAlgorithmError names a hash algorithm this package cannot
// use.
type UnsupportedAlgorithmError struct {
	Algorithm string // a name such as "MD5", or "hash " and a dotted OID
}

// Error reads like "icao: unsupported algorithm hash 1.2.840.113549.2.5".
func (e *UnsupportedAlgorithmError) Error() string {
	return "icao: unsupported algorithm " + e.Algorithm
}

// Unwrap returns [ErrUnsupportedAlgorithm].
func (e *UnsupportedAlgorithmError) Unwrap() error { return ErrUnsupportedAlgorithm }

// SOD is EF.SOD, the document security object: a CMS SignedData (RFC 5652)
// whose content is the LDS security object with the hash of every data
// group (9303-10 §4.6.2). Its signature and trust chain are checked by
// [pki.VerifySOD].
type SOD struct {
	HashAlgorithm crypto.Hash
	// Hashes maps data group numbers (1–16) to their hash values.
	Hashes map[int][]byte
	Raw    []byte // the whole file
}

// ParseSOD parses EF.SOD with package pki's CMS parser, which reads BER,
// as real security objects use indefinite lengths (US, NZ passports). The
// hash algorithm must be SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512, else
// the error is an [*UnsupportedAlgorithmError]; structural errors wrap
// [ErrMalformedLDS]. ParseSOD does not verify the signature.
func ParseSOD(b []byte) (*SOD, error) {
	const file = "EF.SOD"
	raw, _, err := openFile(b, tagSOD, file)
	if err != nil {
		return nil, err
	}
	sd, err := pki.ParseSignedData(raw)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	if !sd.ContentType.Equal(pki.OIDLDSSecurityObject) && !sd.ContentType.Equal(oidData) {
		return nil, malformed(file, "content is not an LDS security object")
	}
	hash, hashes, err := pki.DataGroupHashes(sd.Content)
	switch {
	case errors.Is(err, pki.ErrUnsupported):
		return nil, &UnsupportedAlgorithmError{Algorithm: "hash " + hashOID(sd.Content)}
	case err != nil:
		return nil, malformedTLV(file, err)
	}
	for dg := range hashes {
		if dg < 1 || dg > 16 {
			return nil, malformed(file, "data group number out of range")
		}
	}
	return &SOD{HashAlgorithm: hash, Hashes: hashes, Raw: raw}, nil
}

// hashOID returns the dotted hash algorithm OID of an LDSSecurityObject
// (9303-10 §4.6.2.2) that [pki.DataGroupHashes] refused as unsupported.
func hashOID(content []byte) string {
	s := cryptobyte.String(content)
	var so, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&so, cbasn1.SEQUENCE) || !so.SkipASN1(cbasn1.INTEGER) ||
		!so.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&oid) {
		return "unknown"
	}
	return oid.String()
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
