package vchip

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"maps"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of CMS (RFC 5652 §5, §11) and of the content types a
// specimen signs (9303-10 §4.6.2, 9303-11 §9.2.11, 9303-12 §9).
var (
	oidSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidLDSSecurityObject = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 1}
	oidCSCAMasterList    = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 2}
	oidSecurityObject    = asn1.ObjectIdentifier{0, 4, 0, 127, 0, 7, 3, 2, 1} // id-SecurityObject, BSI TR-03110-3 §A.1.2.5
)

// cmsAlgorithms are the digest algorithm (RFC 5754 §2) and the ECDSA
// (RFC 5758 §3.2) and RSA PKCS #1 v1.5 (RFC 4055 §5) signature algorithms
// of each hash a specimen may sign with.
var cmsAlgorithms = map[crypto.Hash]struct{ digest, ecdsa, rsa asn1.ObjectIdentifier }{
	crypto.SHA1:   {asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}},
	crypto.SHA224: {asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}},
	crypto.SHA256: {asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}},
	crypto.SHA384: {asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}},
	crypto.SHA512: {asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}, asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}},
}

// signedData returns a DER ContentInfo holding a CMS SignedData (RFC 5652
// §5) that encapsulates content of the given type, with signed attributes
// (content type and message digest, §11.1, §11.2) signed by key, ECDSA or
// RSA PKCS #1 v1.5, with hash. The certificate cert of key is included and
// names the signer by issuer and serial number. It is the one builder of
// EF.SOD, EF.CardSecurity and the master list of a specimen; errors wrap
// [ErrSpecimen].
func signedData(contentType asn1.ObjectIdentifier, content []byte, hash crypto.Hash, cert *x509.Certificate, key crypto.Signer, rnd io.Reader) ([]byte, error) {
	algs, ok := cmsAlgorithms[hash]
	if !ok || !hash.Available() {
		return nil, fmt.Errorf("%w: unsupported hash %v", ErrSpecimen, hash)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	if cert == nil || key == nil {
		return nil, fmt.Errorf("%w: SignedData needs a certificate and a key", ErrSpecimen)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%w: SignedData key does not match the certificate", ErrSpecimen)
	}
	sigAlg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(algs.ecdsa)
		})
	}
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
	case *rsa.PublicKey:
		sigAlg = func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(algs.rsa)
				b.AddASN1NULL()
			})
		}
	default:
		return nil, fmt.Errorf("%w: unsupported key %T", ErrSpecimen, key.Public())
	}
	attrs := signedAttributes(contentType, digest(hash, content))
	// The signature covers the attributes DER-encoded as a SET OF (§5.4).
	sig, err := key.Sign(rnd, digest(hash, tagged(cbasn1.SET, attrs)), hash)
	if err != nil {
		return nil, fmt.Errorf("%w: sign: %w", ErrSpecimen, err)
	}
	digestAlg := func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(algs.digest) })
	}
	explicit0 := cbasn1.Tag(0).Constructed().ContextSpecific()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(explicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				b.AddASN1Int64(3) // eContentType other than id-data (§5.1)
				b.AddASN1(cbasn1.SET, digestAlg)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(contentType)
					b.AddASN1(explicit0, func(b *cryptobyte.Builder) { b.AddASN1OctetString(content) })
				})
				b.AddASN1(explicit0, func(b *cryptobyte.Builder) { b.AddBytes(cert.Raw) })
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
							b.AddASN1BigInt(cert.SerialNumber)
						})
						digestAlg(b)
						b.AddASN1(explicit0, func(b *cryptobyte.Builder) { b.AddBytes(attrs) }) // [0] IMPLICIT
						sigAlg(b)
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: SignedData: %w", ErrSpecimen, err)
	}
	return der, nil
}

// signedAttributes returns the content of the SET OF the content type and
// message digest attributes, sorted as DER requires (X.690 §11.6).
func signedAttributes(contentType asn1.ObjectIdentifier, md []byte) []byte {
	attr := func(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			b.AddASN1(cbasn1.SET, value)
		})
		return b.BytesOrPanic() // cannot fail: well-formed OIDs and octets
	}
	attrs := [][]byte{
		attr(oidContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(contentType) }),
		attr(oidMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(md) }),
	}
	slices.SortFunc(attrs, bytes.Compare)
	return bytes.Join(attrs, nil)
}

// tagged encodes content under tag.
func tagged(tag cbasn1.Tag, content []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(content) })
	return b.BytesOrPanic() // cannot fail: the length fits
}

// digest hashes b.
func digest(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// buildSOD builds EF.SOD for the data group files (keyed by data group
// number, 1–16): a version 0 LDS security object (9303-10 §4.6.2.2) with
// their hashes, signed, wrapped in tag 77.
func buildSOD(hash crypto.Hash, files map[int][]byte, cert *x509.Certificate, key crypto.Signer, rnd io.Reader) ([]byte, error) {
	algs, ok := cmsAlgorithms[hash]
	if !ok || !hash.Available() {
		return nil, fmt.Errorf("%w: EF.SOD: unsupported hash %v", ErrSpecimen, hash)
	}
	if len(files) < 1 || len(files) > 16 {
		return nil, fmt.Errorf("%w: EF.SOD needs 1 to 16 data groups", ErrSpecimen)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(algs.digest) })
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, dg := range slices.Sorted(maps.Keys(files)) {
				if dg < 1 || dg > 16 {
					b.SetError(fmt.Errorf("data group number %d out of range", dg))
				}
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1Int64(int64(dg))
					b.AddASN1OctetString(digest(hash, files[dg]))
				})
			}
		})
	})
	content, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: EF.SOD: %w", ErrSpecimen, err)
	}
	ci, err := signedData(oidLDSSecurityObject, content, hash, cert, key, rnd)
	if err != nil {
		return nil, err
	}
	return tagged(cbasn1.Tag(tagSOD), ci), nil
}
