package pki

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Verify checks the SignedData's one SignerInfo (9303-10 §4.6.2 and
// 9303-12 §9 allow one) and returns the certificate that signed: found
// among the SignedData's certificates by subjectKeyIdentifier, or by
// serial number and issuer (the issuer compared by [Name.Key], or with its
// RDNs in any order, since some States write them in another order in the
// SignerInfo than in the certificate); with signed attributes,
// contentType must equal eContentType and messageDigest the hash of the
// content; the signature is checked with [VerifySignature], a bare
// rsaEncryption or id-ecPublicKey signatureAlgorithm taking its hash from
// digestAlgorithm (RFC 5754 §3). Errors wrap [ErrNoSigner], [ErrDigest],
// [ErrSignature], [ErrKeyMismatch], [ErrUnsupported] or [ErrMalformed].
// Verify says nothing about who the signer is: chains are [Store]'s.
func (d *SignedData) Verify() (*Certificate, error) {
	if len(d.Signers) != 1 {
		return nil, fmt.Errorf("%w: %d SignerInfos", ErrUnsupported, len(d.Signers))
	}
	si := &d.Signers[0]
	cert, err := d.signerCertificate(si)
	if err != nil {
		return nil, err
	}
	if d.Content == nil {
		return nil, fmt.Errorf("%w: detached content", ErrUnsupported)
	}
	hash, err := hashByOID(si.DigestAlgorithm)
	if err != nil {
		return nil, err
	}
	signed := d.Content
	if si.SignedAttributes != nil {
		if !si.ContentType.Equal(d.ContentType) {
			return nil, fmt.Errorf("%w: contentType attribute %v, eContentType %v", ErrDigest, si.ContentType, d.ContentType)
		}
		h := hash.New()
		h.Write(d.Content)
		if si.MessageDigest == nil || !bytes.Equal(h.Sum(nil), si.MessageDigest) {
			return nil, fmt.Errorf("%w: messageDigest", ErrDigest)
		}
		signed = si.SignedAttributes
	}
	alg, err := cmsSignatureAlgorithm(si)
	if err != nil {
		return nil, err
	}
	if err := VerifySignature(cert.PublicKey, alg, signed, si.Signature); err != nil {
		return nil, err
	}
	return cert, nil
}

// cmsSignatureAlgorithm completes a signatureAlgorithm that names only the
// key type with the hash of digestAlgorithm.
func cmsSignatureAlgorithm(si *SignerInfo) (AlgorithmIdentifier, error) {
	var want scheme
	switch {
	case si.SignatureAlgorithm.Algorithm.Equal(oidRSAEncryption):
		want = pkcs1v15
	case si.SignatureAlgorithm.Algorithm.Equal(oidECPublicKey):
		want = ecdsaDER
	default:
		return si.SignatureAlgorithm, nil
	}
	hash, err := hashByOID(si.DigestAlgorithm)
	if err != nil {
		return AlgorithmIdentifier{}, err
	}
	for _, s := range sigAlgorithms {
		if s.scheme == want && s.hash == hash {
			return AlgorithmIdentifier{Algorithm: s.oid}, nil
		}
	}
	return AlgorithmIdentifier{}, fmt.Errorf("%w: %v with %v", ErrUnsupported, si.SignatureAlgorithm, hash)
}

// signerCertificate finds the certificate the SignerInfo names. When it
// names one that did not parse, the parse error says why (an unknown
// curve is unsupported, not a missing signer).
func (d *SignedData) signerCertificate(si *SignerInfo) (*Certificate, error) {
	for _, c := range d.Certificates {
		if si.names(c) {
			return c, nil
		}
	}
	for _, err := range d.CertificateErrors {
		return nil, fmt.Errorf("signer certificate: %w", err)
	}
	return nil, ErrNoSigner
}

// names reports whether the SignerInfo's sid designates c.
func (si *SignerInfo) names(c *Certificate) bool {
	if si.SubjectKeyID != nil {
		return c.SubjectKeyID != nil && bytes.Equal(si.SubjectKeyID, c.SubjectKeyID)
	}
	if si.SerialNumber == nil || si.SerialNumber.Cmp(c.SerialNumber) != 0 {
		return false
	}
	return si.Issuer.Equal(c.Issuer) || si.Issuer.unorderedKey() == c.Issuer.unorderedKey()
}

// unorderedKey is [Name.Key] with the RDNs sorted.
func (n Name) unorderedKey() string {
	parts := strings.Split(n.Key(), "/")
	slices.Sort(parts)
	return strings.Join(parts, "/")
}
