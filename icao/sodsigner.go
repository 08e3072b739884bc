package icao

import (
	"crypto"
	"encoding/asn1"
	"math/big"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// sigKind is the family of a signature algorithm.
type sigKind int

const (
	sigRSA        sigKind = iota + 1 // RSASSA-PKCS1-v1_5
	sigPSS                           // RSASSA-PSS
	sigECDSA                         // ECDSA, X9.62 DER signature
	sigECDSAPlain                    // ECDSA, plain r||s (BSI TR-03111 §5.2.1)
)

// Signature algorithms (RFC 4055, RFC 5758, BSI TR-03111 §4.2.1). A zero
// hash means the SignerInfo's digest algorithm.
var sigAlgorithms = []struct {
	oid  asn1.ObjectIdentifier
	kind sigKind
	hash crypto.Hash
}{
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}, sigRSA, 0}, // rsaEncryption
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}, sigRSA, crypto.SHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}, sigRSA, crypto.SHA224},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, sigRSA, crypto.SHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}, sigRSA, crypto.SHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}, sigRSA, crypto.SHA512},
	{oidPSS, sigPSS, 0},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, sigECDSA, 0}, // id-ecPublicKey, seen as a signature algorithm
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, sigECDSA, crypto.SHA1},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, sigECDSA, crypto.SHA224},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, sigECDSA, crypto.SHA256},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, sigECDSA, crypto.SHA384},
	{asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, sigECDSA, crypto.SHA512},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 1}, sigECDSAPlain, crypto.SHA1},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 2}, sigECDSAPlain, crypto.SHA224},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3}, sigECDSAPlain, crypto.SHA256},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 4}, sigECDSAPlain, crypto.SHA384},
	{asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 5}, sigECDSAPlain, crypto.SHA512},
}

var (
	oidPSS         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidMGF1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidRSA         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
)

type sigAlgorithm struct {
	kind sigKind
	hash crypto.Hash
}

func signatureAlgorithm(oid asn1.ObjectIdentifier) (sigAlgorithm, bool) {
	for _, a := range sigAlgorithms {
		if a.oid.Equal(oid) {
			return sigAlgorithm{a.kind, a.hash}, true
		}
	}
	return sigAlgorithm{}, false
}

// Named curves: those Go supports, and the brainpool curves (RFC 5639)
// that some issuers use, to name them in errors.
var (
	goCurves = []asn1.ObjectIdentifier{
		{1, 3, 132, 0, 33},          // P-224
		{1, 2, 840, 10045, 3, 1, 7}, // P-256
		{1, 3, 132, 0, 34},          // P-384
		{1, 3, 132, 0, 35},          // P-521
	}
	brainpoolCurves = map[string]string{
		"1.3.36.3.3.2.8.1.1.1":  "brainpoolP160r1",
		"1.3.36.3.3.2.8.1.1.3":  "brainpoolP192r1",
		"1.3.36.3.3.2.8.1.1.5":  "brainpoolP224r1",
		"1.3.36.3.3.2.8.1.1.7":  "brainpoolP256r1",
		"1.3.36.3.3.2.8.1.1.9":  "brainpoolP320r1",
		"1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
		"1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1",
	}
)

// unsupportedPublicKey names a public key algorithm or curve Go cannot
// verify with, or returns nil.
func unsupportedPublicKey(oid asn1.ObjectIdentifier, params []byte) *UnsupportedAlgorithmError {
	switch {
	case oid.Equal(oidRSA), oid.Equal(oidPSS):
		return nil
	case !oid.Equal(oidECPublicKey):
		return &UnsupportedAlgorithmError{Algorithm: "public key " + oid.String()}
	}
	p, err := tlv.Decode(params)
	if err != nil || p.Tag != 0x06 {
		return &UnsupportedAlgorithmError{Algorithm: "explicit elliptic curve parameters"}
	}
	curve, err := berOID(p, "certificate", "curve")
	if err != nil {
		return nil
	}
	for _, c := range goCurves {
		if c.Equal(curve) {
			return nil
		}
	}
	if name, ok := brainpoolCurves[curve.String()]; ok {
		return &UnsupportedAlgorithmError{Algorithm: name}
	}
	return &UnsupportedAlgorithmError{Algorithm: "elliptic curve " + curve.String()}
}

// parse reads a SignerInfo (RFC 5652 §5.3).
func (si *signerInfo) parse(v []byte) error {
	const file = "EF.SOD"
	f := fieldsOf(v, file)
	if _, err := f.expect(0x02, "SignerInfo version"); err != nil {
		return err
	}
	if err := si.parseSID(f); err != nil {
		return err
	}
	alg, err := f.expect(0x30, "digest algorithm")
	if err != nil {
		return err
	}
	if si.digest, _, err = algorithmID(alg.Value, "digest algorithm"); err != nil {
		return err
	}
	attrs, ok, err := f.optional(0xA0)
	if err != nil {
		return err
	}
	if ok {
		if err := si.parseSignedAttrs(attrs); err != nil {
			return err
		}
	}
	if alg, err = f.expect(0x30, "signature algorithm"); err != nil {
		return err
	}
	if si.sigAlg, si.sigParams, err = algorithmID(alg.Value, "signature algorithm"); err != nil {
		return err
	}
	sig, err := f.expect(0x04, "signature")
	if err != nil {
		return err
	}
	si.signature = sig.Value
	return nil
}

// parseSID reads the signer identifier: IssuerAndSerialNumber or a
// [0] SubjectKeyIdentifier.
func (si *signerInfo) parseSID(f *berFields) error {
	const file = "EF.SOD"
	if ski, ok, err := f.optional(0x80); err != nil || ok {
		si.keyID = ski.Value
		return err
	}
	ias, err := f.expect(0x30, "signer identifier")
	if err != nil {
		return err
	}
	g := fieldsOf(ias.Value, file)
	issuer, err := g.expect(0x30, "signer issuer")
	if err != nil {
		return err
	}
	serial, err := g.expect(0x02, "signer serial number")
	if err != nil || len(serial.Value) == 0 {
		return malformed(file, "bad signer serial number")
	}
	if si.issuer, err = toDER(issuer, 0); err != nil {
		return err
	}
	si.serial = new(big.Int).SetBytes(serial.Value)
	if serial.Value[0]&0x80 != 0 { // two's complement
		si.serial.Sub(si.serial, new(big.Int).Lsh(big.NewInt(1), uint(8*len(serial.Value))))
	}
	return nil
}

// parseSignedAttrs keeps the DER encoding that the signature covers, the
// attributes with an explicit SET OF tag (RFC 5652 §5.4), and picks out
// the content type and message digest.
func (si *signerInfo) parseSignedAttrs(attrs tlv.Object) error {
	const file = "EF.SOD"
	der, err := toDER(attrs, 0)
	if err != nil {
		return err
	}
	der[0] = 0x31
	si.signedAttrs = der
	list, err := tlv.Children(attrs.Value, 32)
	if err != nil {
		return malformedTLV(file, err)
	}
	for _, a := range list {
		if a.Tag != 0x30 {
			return malformed(file, "attribute is not a SEQUENCE")
		}
		f := fieldsOf(a.Value, file)
		o, err := f.expect(0x06, "attribute type")
		if err != nil {
			return err
		}
		typ, err := berOID(o, file, "attribute type")
		if err != nil {
			return err
		}
		set, err := f.expect(0x31, "attribute values")
		if err != nil {
			return err
		}
		md, ct := typ.Equal(oidMessageDigestAttr), typ.Equal(oidContentTypeAttr)
		if !md && !ct {
			continue
		}
		value, err := tlv.Decode(set.Value) // exactly one value
		switch {
		case err != nil, md && si.messageDigest != nil, ct && si.contentType != nil:
			return malformed(file, "bad or repeated content type or message digest attribute")
		case md:
			si.messageDigest, err = berOctets(value, file, 0)
		case ct:
			si.contentType, err = berOID(value, file, "content type attribute")
		}
		if err != nil {
			return err
		}
	}
	return nil
}
