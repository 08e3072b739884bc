package icao

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"maps"
	"slices"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// BuildSOD builds EF.SOD for the data group files in files (keyed by data
// group number, 1–16): a DER SignedData over a version 0 LDS security
// object with the given hash (SHA-1 to SHA-512), signed attributes
// (content type and message digest), signed by key (ECDSA, or RSA with
// PKCS #1 v1.5) whose certificate cert is included, wrapped in tag 77. It
// is meant for test documents and the virtual chip; errors wrap
// [ErrEncode].
func BuildSOD(hash crypto.Hash, files map[int][]byte, cert *x509.Certificate, key crypto.Signer) ([]byte, error) {
	return buildSOD(hash, files, cert, key, false)
}

// buildSOD is BuildSOD with a choice of RSA-PSS for RSA keys.
func buildSOD(hash crypto.Hash, files map[int][]byte, cert *x509.Certificate, key crypto.Signer, pss bool) ([]byte, error) {
	hashAlg, err := hashAlgorithmID(hash)
	if err != nil {
		return nil, err
	}
	if cert == nil || key == nil {
		return nil, fmt.Errorf("%w: EF.SOD needs a certificate and a key", ErrEncode)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: EF.SOD key does not match the certificate", ErrEncode)
	}
	content, err := securityObject(hash, hashAlg, files)
	if err != nil {
		return nil, err
	}
	attrs := signedAttributes(hash, content)
	sigAlg, sig, err := sign(key, hash, attrs, pss)
	if err != nil {
		return nil, err
	}
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return nil, fmt.Errorf("%w: EF.SOD: certificate serial number: %w", ErrEncode, err)
	}
	attrs[0] = 0xA0 // [0] IMPLICIT SET OF Attribute
	signer := seq(appendUint(nil, 0x02, 1), seq(cert.RawIssuer, serial), hashAlg, attrs, sigAlg, tlv.Encode(0x04, sig))
	encap := seq(oidBytes(oidLDSSecurityObject), tlv.Encode(0xA0, tlv.Encode(0x04, content)))
	signedData := seq(appendUint(nil, 0x02, 3), tlv.Encode(0x31, hashAlg), encap,
		tlv.Encode(0xA0, cert.Raw), tlv.Encode(0x31, signer))
	contentInfo := seq(oidBytes(oidSignedData), tlv.Encode(0xA0, signedData))
	return tlv.Encode(tagSOD, contentInfo), nil
}

// hashAlgorithmID returns the AlgorithmIdentifier of hash, parameters
// absent (RFC 5754 §2).
func hashAlgorithmID(hash crypto.Hash) ([]byte, error) {
	for _, h := range hashOIDs {
		if h.hash == hash && hash.Available() {
			return seq(oidBytes(h.oid)), nil
		}
	}
	return nil, fmt.Errorf("%w: EF.SOD: %w", ErrEncode, &UnsupportedAlgorithmError{Algorithm: hash.String()})
}

// securityObject returns the DER LDSSecurityObject of the files.
func securityObject(hash crypto.Hash, hashAlg []byte, files map[int][]byte) ([]byte, error) {
	if len(files) < 1 || len(files) > 16 {
		return nil, fmt.Errorf("%w: EF.SOD needs 1 to 16 data groups", ErrEncode)
	}
	var list []byte
	for _, dg := range slices.Sorted(maps.Keys(files)) {
		if dg < 1 || dg > 16 {
			return nil, fmt.Errorf("%w: EF.SOD: data group number out of range", ErrEncode)
		}
		list = append(list, seq(appendUint(nil, 0x02, dg), tlv.Encode(0x04, digest(hash, files[dg])))...)
	}
	return seq(appendUint(nil, 0x02, 0), hashAlg, tlv.Encode(0x30, list)), nil
}

// signedAttributes returns the DER SET OF the content type and message
// digest attributes, sorted as DER requires (X.690 §11.6).
func signedAttributes(hash crypto.Hash, content []byte) []byte {
	attrs := [][]byte{
		seq(oidBytes(oidContentTypeAttr), tlv.Encode(0x31, oidBytes(oidLDSSecurityObject))),
		seq(oidBytes(oidMessageDigestAttr), tlv.Encode(0x31, tlv.Encode(0x04, digest(hash, content)))),
	}
	slices.SortFunc(attrs, bytes.Compare)
	return tlv.Encode(0x31, bytes.Join(attrs, nil))
}

// sign signs the signed attributes and returns the signature algorithm
// identifier with the signature.
func sign(key crypto.Signer, hash crypto.Hash, attrs []byte, pss bool) ([]byte, []byte, error) {
	var opts crypto.SignerOpts = hash
	var alg []byte
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		alg = seq(oidBytes(signatureOID(sigECDSA, hash)))
	case *rsa.PublicKey:
		if pss {
			opts = &rsa.PSSOptions{SaltLength: hash.Size(), Hash: hash}
			alg = seq(oidBytes(oidPSS), pssParamsFor(hash))
		} else {
			alg = seq(oidBytes(signatureOID(sigRSA, hash)), []byte{0x05, 0x00})
		}
	default:
		return nil, nil, fmt.Errorf("%w: EF.SOD: %w", ErrEncode, &UnsupportedAlgorithmError{Algorithm: fmt.Sprintf("key %T", key.Public())})
	}
	sig, err := key.Sign(rand.Reader, digest(hash, attrs), opts)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: EF.SOD: sign: %w", ErrEncode, err)
	}
	return alg, sig, nil
}

// signatureOID finds the algorithm of the kind that names hash.
func signatureOID(kind sigKind, hash crypto.Hash) asn1.ObjectIdentifier {
	for _, a := range sigAlgorithms {
		if a.kind == kind && a.hash == hash {
			return a.oid
		}
	}
	return nil
}

// pssParamsFor returns RSASSA-PSS-params with MGF1 and a salt as long as
// the hash (RFC 4055 §3.1).
func pssParamsFor(hash crypto.Hash) []byte {
	h, _ := hashAlgorithmID(hash)
	mgf := seq(oidBytes(oidMGF1), h)
	return seq(tlv.Encode(0xA0, h), tlv.Encode(0xA1, mgf), tlv.Encode(0xA2, appendUint(nil, 0x02, hash.Size())))
}

// seq returns a SEQUENCE of the encoded fields.
func seq(fields ...[]byte) []byte { return tlv.Encode(0x30, bytes.Join(fields, nil)) }

// oidBytes encodes an OBJECT IDENTIFIER (X.690 §8.19).
func oidBytes(oid asn1.ObjectIdentifier) []byte {
	var v []byte
	arcs := append([]int{oid[0]*40 + oid[1]}, oid[2:]...)
	for _, a := range arcs {
		var b []byte
		for x := a; ; x >>= 7 {
			b = append([]byte{byte(x&0x7F) | 0x80}, b...)
			if x < 0x80 {
				break
			}
		}
		b[len(b)-1] &= 0x7F
		v = append(v, b...)
	}
	return tlv.Encode(0x06, v)
}
