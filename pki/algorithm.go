package pki

import (
	"bytes"
	"crypto"
	_ "crypto/sha1" // registers the hashes of the signature algorithms
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// AlgorithmIdentifier is an X.509 AlgorithmIdentifier (RFC 5280 §4.1.1.2).
type AlgorithmIdentifier struct {
	// Algorithm is the algorithm's OID.
	Algorithm asn1.ObjectIdentifier
	// Parameters is the DER of the parameters, nil when absent.
	Parameters []byte
	// Raw is the DER of the whole AlgorithmIdentifier.
	Raw []byte
}

// Object identifiers of RFC 3279, RFC 4055, RFC 5480, RFC 5758 and BSI
// TR-03111 §5.2.1 (the last arc of the hash OIDs follows RFC 5754).
var (
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSASSAPSS     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidECPublicKey   = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidPrimeField    = asn1.ObjectIdentifier{1, 2, 840, 10045, 1, 1}

	oidSHA1   = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

// scheme is how a signature is verified.
type scheme int

const (
	pkcs1v15 scheme = iota + 1
	pss
	ecdsaDER
	ecdsaPlain
)

// sigAlgorithm is a signature algorithm with a fixed hash.
type sigAlgorithm struct {
	oid    asn1.ObjectIdentifier
	name   string
	scheme scheme
	hash   crypto.Hash
}

var sigAlgorithms = []sigAlgorithm{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, "sha1WithRSAEncryption", pkcs1v15, crypto.SHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, "sha224WithRSAEncryption", pkcs1v15, crypto.SHA224},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, "sha256WithRSAEncryption", pkcs1v15, crypto.SHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, "sha384WithRSAEncryption", pkcs1v15, crypto.SHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, "sha512WithRSAEncryption", pkcs1v15, crypto.SHA512},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, "ecdsa-with-SHA1", ecdsaDER, crypto.SHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, "ecdsa-with-SHA224", ecdsaDER, crypto.SHA224},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, "ecdsa-with-SHA256", ecdsaDER, crypto.SHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, "ecdsa-with-SHA384", ecdsaDER, crypto.SHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, "ecdsa-with-SHA512", ecdsaDER, crypto.SHA512},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 1}, "ecdsa-plain-SHA1", ecdsaPlain, crypto.SHA1},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 2}, "ecdsa-plain-SHA224", ecdsaPlain, crypto.SHA224},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}, "ecdsa-plain-SHA256", ecdsaPlain, crypto.SHA256},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 4}, "ecdsa-plain-SHA384", ecdsaPlain, crypto.SHA384},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 5}, "ecdsa-plain-SHA512", ecdsaPlain, crypto.SHA512},
}

var hashOIDs = []struct {
	oid  asn1.ObjectIdentifier
	hash crypto.Hash
}{
	{oidSHA1, crypto.SHA1}, {oidSHA224, crypto.SHA224}, {oidSHA256, crypto.SHA256},
	{oidSHA384, crypto.SHA384}, {oidSHA512, crypto.SHA512},
}

// String returns the algorithm's usual name ("ecdsa-with-SHA256",
// "RSASSA-PSS", …), or its OID in dotted form.
func (a AlgorithmIdentifier) String() string {
	for _, s := range sigAlgorithms {
		if s.oid.Equal(a.Algorithm) {
			return s.name
		}
	}
	switch {
	case a.Algorithm.Equal(oidRSASSAPSS):
		return "RSASSA-PSS"
	case a.Algorithm.Equal(oidRSAEncryption):
		return "rsaEncryption"
	case a.Algorithm.Equal(oidECPublicKey):
		return "ecPublicKey"
	}
	return a.Algorithm.String()
}

// MarshalText returns the algorithm's name, as String does.
func (a AlgorithmIdentifier) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// readAlgorithm reads an AlgorithmIdentifier from s.
func readAlgorithm(s *cryptobyte.String) (AlgorithmIdentifier, error) {
	var raw, body cryptobyte.String
	if !s.ReadASN1Element(&raw, cbasn1.SEQUENCE) {
		return AlgorithmIdentifier{}, fmt.Errorf("%w: AlgorithmIdentifier", ErrMalformed)
	}
	outer := raw
	var a AlgorithmIdentifier
	if !outer.ReadASN1(&body, cbasn1.SEQUENCE) || !body.ReadASN1ObjectIdentifier(&a.Algorithm) {
		return AlgorithmIdentifier{}, fmt.Errorf("%w: AlgorithmIdentifier", ErrMalformed)
	}
	if !body.Empty() {
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !body.ReadAnyASN1Element(&params, &tag) || !body.Empty() {
			return AlgorithmIdentifier{}, fmt.Errorf("%w: AlgorithmIdentifier parameters", ErrMalformed)
		}
		a.Parameters = params
	}
	a.Raw = raw
	return a, nil
}

// nullOrAbsent reports whether parameters are absent or NULL, which RSA
// and the hash AlgorithmIdentifiers allow alike (RFC 4055 §2.1, RFC 5754
// §2).
func nullOrAbsent(params []byte) bool {
	return params == nil || bytes.Equal(params, []byte{0x05, 0x00})
}

// equivalent reports whether two AlgorithmIdentifiers name the same
// algorithm with the same parameters, absent and NULL counting as the same
// (some issuers write one in the TBSCertificate and the other outside).
func (a AlgorithmIdentifier) equivalent(b AlgorithmIdentifier) bool {
	if !a.Algorithm.Equal(b.Algorithm) {
		return false
	}
	if nullOrAbsent(a.Parameters) && nullOrAbsent(b.Parameters) {
		return true
	}
	return bytes.Equal(a.Parameters, b.Parameters)
}

// hashByOID returns the hash of a hash AlgorithmIdentifier.
func hashByOID(a AlgorithmIdentifier) (crypto.Hash, error) {
	for _, h := range hashOIDs {
		if h.oid.Equal(a.Algorithm) {
			if !nullOrAbsent(a.Parameters) {
				return 0, fmt.Errorf("%w: parameters of hash %v", ErrMalformed, a.Algorithm)
			}
			return h.hash, nil
		}
	}
	return 0, fmt.Errorf("%w: hash algorithm %v", ErrUnsupported, a.Algorithm)
}

// pssParams are RSASSA-PSS-params (RFC 4055 §3.1).
type pssParams struct {
	hash       crypto.Hash
	saltLength int
}

// parsePSSParams decodes RSASSA-PSS-params { hashAlgorithm [0] DEFAULT
// sha1, maskGenAlgorithm [1] DEFAULT mgf1SHA1, saltLength [2] DEFAULT 20,
// trailerField [3] DEFAULT 1 }. The MGF1 hash must equal the message hash,
// which is what crypto/rsa implements and what every State uses.
func parsePSSParams(der []byte) (pssParams, error) {
	p := pssParams{hash: crypto.SHA1, saltLength: 20}
	if der == nil {
		return p, nil // RFC 4055 §3.1: absent in a key means unrestricted; the defaults
	}
	mgfHash := crypto.SHA1
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return p, fmt.Errorf("%w: RSASSA-PSS-params", ErrMalformed)
	}
	var err error
	var field cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return p, fmt.Errorf("%w: PSS hashAlgorithm", ErrMalformed)
	}
	if present {
		if p.hash, err = readHash(field); err != nil {
			return p, err
		}
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return p, fmt.Errorf("%w: PSS maskGenAlgorithm", ErrMalformed)
	}
	if present {
		mgf, err := readAlgorithm(&field)
		if err != nil || !field.Empty() {
			return p, fmt.Errorf("%w: PSS maskGenAlgorithm", ErrMalformed)
		}
		if !mgf.Algorithm.Equal(oidMGF1) {
			return p, fmt.Errorf("%w: PSS mask generation %v", ErrUnsupported, mgf.Algorithm)
		}
		if mgfHash, err = readHash(mgf.Parameters); err != nil {
			return p, err
		}
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(2).Constructed().ContextSpecific()) {
		return p, fmt.Errorf("%w: PSS saltLength", ErrMalformed)
	}
	if present {
		var salt int64
		if !field.ReadASN1Int64WithTag(&salt, cbasn1.INTEGER) || !field.Empty() || salt < 0 || salt > 1024 {
			return p, fmt.Errorf("%w: PSS saltLength", ErrMalformed)
		}
		p.saltLength = int(salt)
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return p, fmt.Errorf("%w: PSS trailerField", ErrMalformed)
	}
	if present {
		var trailer int64
		if !field.ReadASN1Int64WithTag(&trailer, cbasn1.INTEGER) || !field.Empty() || trailer != 1 {
			return p, fmt.Errorf("%w: PSS trailerField other than 1", ErrUnsupported)
		}
	}
	if !seq.Empty() {
		return p, fmt.Errorf("%w: RSASSA-PSS-params", ErrMalformed)
	}
	if mgfHash != p.hash {
		return p, fmt.Errorf("%w: PSS with MGF1 hash %v and message hash %v", ErrUnsupported, mgfHash, p.hash)
	}
	return p, nil
}

// readHash reads a hash AlgorithmIdentifier that fills field.
func readHash(field []byte) (crypto.Hash, error) {
	s := cryptobyte.String(field)
	a, err := readAlgorithm(&s)
	if err != nil || !s.Empty() {
		return 0, fmt.Errorf("%w: hash AlgorithmIdentifier", ErrMalformed)
	}
	return hashByOID(a)
}
