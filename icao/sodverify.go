package icao

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"math/big"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// VerifySignature checks the SignedData signature with the document signer
// certificate embedded in EF.SOD and returns that certificate. It checks
// that the signed message digest attribute is the hash of the LDS security
// object, that the content type attribute names it, and the signature over
// the signed attributes: RSA PKCS #1 v1.5, RSA-PSS (MGF1 with the same
// hash), or ECDSA on P-224, P-256, P-384 and P-521 in X9.62 or plain
// (BSI TR-03111) signature format.
//
// A signature that does not verify gives an error wrapping [ErrSignature];
// brainpool curves, explicit curve parameters and other algorithms give an
// [*UnsupportedAlgorithmError]. Whether the certificate chains to a
// trusted CSCA (passive authentication, 9303-11 §5.1) is not checked.
func (s *SOD) VerifySignature() (*x509.Certificate, error) {
	cert, err := s.signerCertificate()
	if err != nil {
		return nil, err
	}
	signed, err := s.signedBytes()
	if err != nil {
		return nil, err
	}
	if err := verifySignature(cert.PublicKey, &s.signer, signed); err != nil {
		return nil, err
	}
	return cert, nil
}

// signerCertificate finds the certificate the SignerInfo names. A single
// certificate is used even when the signer identifier does not match it:
// the signature check decides.
func (s *SOD) signerCertificate() (*x509.Certificate, error) {
	var firstErr error
	var parsed []*x509.Certificate
	for _, raw := range s.Certificates {
		c, err := x509.ParseCertificate(raw)
		if err != nil {
			if firstErr == nil {
				firstErr = certificateError(raw, err)
			}
			continue
		}
		if s.signer.names(c) {
			return c, nil
		}
		parsed = append(parsed, c)
	}
	switch {
	case len(s.Certificates) == 1 && len(parsed) == 1:
		return parsed[0], nil
	case firstErr != nil:
		return nil, firstErr
	}
	return nil, ErrNoSignerCertificate
}

func (si *signerInfo) names(c *x509.Certificate) bool {
	if si.serial != nil {
		return c.SerialNumber.Cmp(si.serial) == 0 && bytes.Equal(c.RawIssuer, si.issuer)
	}
	return len(si.keyID) > 0 && bytes.Equal(c.SubjectKeyId, si.keyID)
}

// signedBytes checks the signed attributes against the content and
// returns the bytes the signature covers.
func (s *SOD) signedBytes() ([]byte, error) {
	si := &s.signer
	if si.signedAttrs == nil {
		return s.content, nil
	}
	h, ok := hashByOID(si.digest)
	if !ok {
		return nil, &UnsupportedAlgorithmError{Algorithm: "digest " + si.digest.String()}
	}
	switch {
	case si.messageDigest == nil:
		return nil, fmt.Errorf("%w: no message digest attribute", ErrSignature)
	case !bytes.Equal(digest(h, s.content), si.messageDigest):
		return nil, fmt.Errorf("%w: message digest does not match the security object", ErrSignature)
	case si.contentType != nil && !si.contentType.Equal(oidLDSSecurityObject):
		return nil, fmt.Errorf("%w: content type attribute is not the LDS security object", ErrSignature)
	}
	return si.signedAttrs, nil
}

func digest(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// verifySignature checks sig over signed with the algorithm of si.
func verifySignature(pub crypto.PublicKey, si *signerInfo, signed []byte) error {
	alg, ok := signatureAlgorithm(si.sigAlg)
	if !ok {
		return &UnsupportedAlgorithmError{Algorithm: "signature " + si.sigAlg.String()}
	}
	h := alg.hash
	if h == 0 {
		if h, ok = hashByOID(si.digest); !ok {
			return &UnsupportedAlgorithmError{Algorithm: "digest " + si.digest.String()}
		}
	}
	var err error
	switch k := pub.(type) {
	case *rsa.PublicKey:
		err = verifyRSA(k, alg.kind, h, si, signed)
	case *ecdsa.PublicKey:
		err = verifyECDSA(k, alg.kind, h, si.signature, signed)
	default:
		return &UnsupportedAlgorithmError{Algorithm: fmt.Sprintf("public key %T", pub)}
	}
	return err
}

func verifyRSA(k *rsa.PublicKey, kind sigKind, h crypto.Hash, si *signerInfo, signed []byte) error {
	switch kind {
	case sigRSA:
		if rsa.VerifyPKCS1v15(k, h, digest(h, signed), si.signature) != nil {
			return ErrSignature
		}
		return nil
	case sigPSS:
		ph, salt, err := pssParameters(si.sigParams)
		if err != nil {
			return err
		}
		if rsa.VerifyPSS(k, ph, digest(ph, signed), si.signature, &rsa.PSSOptions{SaltLength: salt, Hash: ph}) != nil {
			return ErrSignature
		}
		return nil
	}
	return fmt.Errorf("%w: RSA key with an ECDSA signature algorithm", ErrSignature)
}

func verifyECDSA(k *ecdsa.PublicKey, kind sigKind, h crypto.Hash, sig, signed []byte) error {
	d := digest(h, signed)
	switch kind {
	case sigECDSA:
		if !ecdsa.VerifyASN1(k, d, sig) {
			return ErrSignature
		}
		return nil
	case sigECDSAPlain:
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*n {
			return ErrSignature
		}
		r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
		if !ecdsa.Verify(k, d, r, s) {
			return ErrSignature
		}
		return nil
	}
	return fmt.Errorf("%w: ECDSA key with an RSA signature algorithm", ErrSignature)
}

// pssParameters reads RSASSA-PSS-params (RFC 4055 §3.1). Go verifies PSS
// with MGF1 over the message hash only, so another MGF hash is unsupported.
func pssParameters(params []byte) (crypto.Hash, int, error) {
	h, mgf, salt := crypto.SHA1, crypto.SHA1, 20
	if params == nil || bytes.Equal(params, []byte{0x05, 0x00}) { // absent or NULL: the defaults
		return h, salt, nil
	}
	seq, err := tlv.DecodeExpect(params, 0x30)
	if err != nil {
		return 0, 0, malformedTLV("EF.SOD", err)
	}
	fields, err := tlv.Children(seq.Value, 4)
	if err != nil {
		return 0, 0, malformedTLV("EF.SOD", err)
	}
	for _, f := range fields {
		if err := pssField(f, &h, &mgf, &salt); err != nil {
			return 0, 0, err
		}
	}
	if mgf != h {
		return 0, 0, &UnsupportedAlgorithmError{Algorithm: "RSA-PSS with MGF1 " + mgf.String() + " and " + h.String()}
	}
	return h, salt, nil
}

func pssField(f tlv.Object, h, mgf *crypto.Hash, salt *int) error {
	const file = "EF.SOD"
	inner, err := tlv.Decode(f.Value)
	if err != nil {
		return malformedTLV(file, err)
	}
	switch f.Tag {
	case 0xA0:
		*h, err = pssHash(inner, false)
	case 0xA1:
		*mgf, err = pssHash(inner, true)
	case 0xA2, 0xA3:
		n, ok := berUint(inner.Value)
		if !ok || inner.Tag != 0x02 || f.Tag == 0xA3 && n != 1 {
			return malformed(file, "bad RSA-PSS salt length or trailer field")
		}
		if f.Tag == 0xA2 {
			*salt = n
		}
	}
	return err
}

// pssHash reads the hash AlgorithmIdentifier of RSASSA-PSS-params, or for
// the mask generation function, MGF1's AlgorithmIdentifier and its hash.
func pssHash(alg tlv.Object, mgf bool) (crypto.Hash, error) {
	if alg.Tag != 0x30 {
		return 0, malformed("EF.SOD", "bad RSA-PSS parameters")
	}
	oid, params, err := algorithmID(alg.Value, "RSA-PSS hash")
	if err != nil {
		return 0, err
	}
	if mgf {
		if !oid.Equal(oidMGF1) || params == nil {
			return 0, &UnsupportedAlgorithmError{Algorithm: "RSA-PSS mask generation " + oid.String()}
		}
		p, err := tlv.DecodeExpect(params, 0x30)
		if err != nil {
			return 0, malformedTLV("EF.SOD", err)
		}
		if oid, _, err = algorithmID(p.Value, "MGF1 hash"); err != nil {
			return 0, err
		}
	}
	hash, ok := hashByOID(oid)
	if !ok {
		return 0, &UnsupportedAlgorithmError{Algorithm: "hash " + oid.String()}
	}
	return hash, nil
}

// certificateError explains why a certificate did not parse: a public key
// Go cannot use gives an UnsupportedAlgorithmError naming it.
func certificateError(raw []byte, err error) error {
	if u := unsupportedKey(raw); u != nil {
		return u
	}
	return fmt.Errorf("icao: EF.SOD: parse document signer certificate: %w", err)
}

// unsupportedKey looks at the SubjectPublicKeyInfo of a certificate and
// names its algorithm or curve when Go's crypto/x509 cannot use it.
func unsupportedKey(cert []byte) *UnsupportedAlgorithmError {
	c, err := tlv.DecodeExpect(cert, 0x30)
	if err != nil {
		return nil
	}
	tbs, _, err := tlv.Next(c.Value)
	if err != nil {
		return nil
	}
	// [0] version, serial, signature, issuer, validity, subject, SPKI
	fields, err := tlv.Children(tbs.Value, 16)
	if err != nil || len(fields) < 7 {
		return nil
	}
	if fields[0].Tag != 0xA0 {
		fields = append([]tlv.Object{{}}, fields...)
	}
	spki := fields[6]
	if spki.Tag != 0x30 {
		return nil
	}
	alg, _, err := tlv.Next(spki.Value)
	if err != nil || alg.Tag != 0x30 {
		return nil
	}
	oid, params, err := algorithmID(alg.Value, "public key algorithm")
	if err != nil {
		return nil
	}
	return unsupportedPublicKey(oid, params)
}
