package pki

import (
	"crypto"
	"crypto/rsa"
	"fmt"
)

// minRSABits is the smallest RSA modulus accepted; crypto/rsa refuses
// smaller keys, and 9303-12 §7.1 requires at least 2048 bits of new keys.
const minRSABits = 1024

// VerifySignature checks that sig is pub's signature over signed with the
// signature algorithm alg: RSASSA-PKCS1-v1_5 with SHA-1 to SHA-512 (RFC
// 8017 §8.2), RSASSA-PSS with its parameters (RFC 4055 §3), ECDSA with
// SHA-1 to SHA-512 in X9.62 DER (RFC 5758 §3.2) or plain r‖s (BSI
// TR-03111 §5.2.1). It returns nil, [ErrSignature] when the signature does
// not verify, [ErrKeyMismatch] when the key is of the wrong type, and
// [ErrUnsupported] for any other algorithm, including rsaEncryption
// without a hash (a CMS SignerInfo names its hash separately).
func VerifySignature(pub *PublicKey, alg AlgorithmIdentifier, signed, sig []byte) error {
	if pub == nil {
		return fmt.Errorf("%w: no public key", ErrKeyMismatch)
	}
	sch, hash, pssOpts, err := resolve(alg)
	if err != nil {
		return err
	}
	h := hash.New()
	h.Write(signed)
	digest := h.Sum(nil)
	switch sch {
	case pkcs1v15, pss:
		if pub.Type != RSA {
			return fmt.Errorf("%w: %v with a %v key", ErrKeyMismatch, alg, pub.Type)
		}
		if pub.RSA.N.BitLen() < minRSABits {
			return fmt.Errorf("%w: RSA key of %d bits", ErrUnsupported, pub.RSA.N.BitLen())
		}
		if sch == pkcs1v15 {
			err = rsa.VerifyPKCS1v15(pub.RSA, hash, digest, sig)
		} else {
			err = rsa.VerifyPSS(pub.RSA, hash, digest, sig, pssOpts)
		}
	case ecdsaDER, ecdsaPlain:
		if pub.Type != EC {
			return fmt.Errorf("%w: %v with a %v key", ErrKeyMismatch, alg, pub.Type)
		}
		if sch == ecdsaDER {
			err = pub.EC.VerifyASN1(digest, sig)
		} else {
			err = pub.EC.VerifyPlain(digest, sig)
		}
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, alg)
	}
	return nil
}

// resolve returns how to verify a signature algorithm.
func resolve(alg AlgorithmIdentifier) (scheme, crypto.Hash, *rsa.PSSOptions, error) {
	if alg.Algorithm.Equal(oidRSASSAPSS) {
		p, err := parsePSSParams(alg.Parameters)
		if err != nil {
			return 0, 0, nil, err
		}
		return pss, p.hash, &rsa.PSSOptions{SaltLength: p.saltLength, Hash: p.hash}, nil
	}
	for _, s := range sigAlgorithms {
		if s.oid.Equal(alg.Algorithm) {
			// RFC 4055 §5 has NULL for RSA, RFC 5758 §3.2 absent for
			// ECDSA; both occur for both in the wild.
			if !nullOrAbsent(alg.Parameters) {
				return 0, 0, nil, fmt.Errorf("%w: parameters of %s", ErrMalformed, s.name)
			}
			return s.scheme, s.hash, nil, nil
		}
	}
	return 0, 0, nil, fmt.Errorf("%w: signature algorithm %v", ErrUnsupported, alg.Algorithm)
}

// CheckSignatureFrom checks that parent issued c: parent may sign
// certificates ([Certificate.SignsCertificates]) and parent's key
// verifies c's signature. Names, key identifiers and validity are the
// chain builder's to match.
func (c *Certificate) CheckSignatureFrom(parent *Certificate) error {
	if ok, _ := parent.SignsCertificates(); !ok {
		return fmt.Errorf("%w: %v has neither basicConstraints cA nor keyUsage keyCertSign", ErrNotCA, parent.Subject)
	}
	if parent.KeyUsage != 0 && parent.KeyUsage&KeyUsageCertSign == 0 {
		return fmt.Errorf("%w: %v lacks keyUsage keyCertSign", ErrNotCA, parent.Subject)
	}
	return VerifySignature(parent.PublicKey, c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
}

// SignsCertificates reports whether c may issue certificates: basicConstraints
// cA (RFC 5280 §4.2.1.9), or a version 1 or 2 certificate. A version 3
// certificate without cA but with keyUsage keyCertSign is taken too, and
// deviation says so: CSCAs on States' master lists have neither
// basicConstraints (BE, FI) or mark cA FALSE (LU, TR), and they are still
// the States' CSCAs (9303-12 §7.1.1 Table 6 makes both mandatory; ICAO
// publishes such profile deviations rather than revoking the CSCAs).
func (c *Certificate) SignsCertificates() (ok bool, deviation string) {
	switch {
	case c.Version < 3 || c.BasicConstraintsValid && c.IsCA:
		return true, ""
	case c.KeyUsage&KeyUsageCertSign == 0:
		return false, ""
	case c.BasicConstraintsValid:
		return true, "basicConstraints cA FALSE, taken as a CSCA for its keyUsage keyCertSign"
	}
	return true, "no basicConstraints, taken as a CSCA for its keyUsage keyCertSign"
}
