package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// This file builds a test PKI of the made-up State Utopia (UT): CSCAs,
// link and DS certificates with crypto/x509, and EF.SOD, master lists,
// CRLs and LDIF files by hand, as States write them.

var (
	fixtureStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	fixtureEnd   = time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC)
	fixtureSign  = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC) // signingTime of test EF.SODs
)

// testCert is a certificate with its private key.
type testCert struct {
	der  []byte
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// keyID is the SHA-1 of the public key point (RFC 5280 §4.2.1.2 method 1).
func keyID(k *ecdsa.PrivateKey) []byte {
	pt, _ := k.PublicKey.ECDH()
	h := sha1.Sum(pt.Bytes())
	return h[:]
}

func utName(cn, country string) pkix.Name {
	return pkix.Name{Country: []string{country}, Organization: []string{"Government of " + country}, CommonName: cn}
}

// issue makes a certificate of key for subject, signed by parent (self-
// signed when parent is nil).
func issue(t testing.TB, subject pkix.Name, key *ecdsa.PrivateKey, parent *testCert, tmpl x509.Certificate) *testCert {
	t.Helper()
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl.SerialNumber = serial
	tmpl.Subject = subject
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore, tmpl.NotAfter = fixtureStart, fixtureEnd
	}
	if tmpl.SubjectKeyId == nil {
		tmpl.SubjectKeyId = keyID(key)
	}
	parentCert, parentKey := &tmpl, key
	if parent != nil {
		parentCert, parentKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, parentCert, &key.PublicKey, parentKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testCert{der: der, cert: c, key: key}
}

// newCSCA makes a self-signed CSCA (9303-12 §7.1.1: CA, keyCertSign and
// cRLSign).
func newCSCA(t testing.TB, cn, country string) *testCert {
	t.Helper()
	return issue(t, utName(cn, country), newP256(t), nil, cscaTemplate())
}

func cscaTemplate() x509.Certificate {
	return x509.Certificate{
		IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
}

// newDS makes a DS certificate issued by csca.
func newDS(t testing.TB, csca *testCert, cn, country string) *testCert {
	t.Helper()
	return issue(t, utName(cn, country), newP256(t), csca, x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature})
}

// sdSpec describes a SignedData to build.
type sdSpec struct {
	contentType asn1.ObjectIdentifier
	content     []byte
	certs       [][]byte
	signer      *testCert
	bySKI       bool      // sid as subjectKeyIdentifier
	signingTime time.Time // zero: no signingTime
	attrType    asn1.ObjectIdentifier
	noAttrs     bool // the signature covers the content
	tamper      func(signedAttrs []byte)
}

var oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}

// build returns the DER ContentInfo.
func (s sdSpec) build(t testing.TB) []byte {
	t.Helper()
	digest := sha256.Sum256(s.content)
	attrType := s.contentType
	if s.attrType != nil {
		attrType = s.attrType
	}
	attrs := [][]byte{
		attribute(oidAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(attrType) }),
		attribute(oidAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest[:]) }),
	}
	if !s.signingTime.IsZero() {
		attrs = append(attrs, attribute(oidAttrSigningTime, func(b *cryptobyte.Builder) { b.AddASN1UTCTime(s.signingTime) }))
	}
	slices.SortFunc(attrs, bytes.Compare) // DER SET OF (X.690 §11.6)
	signedAttrs := element(cbasn1.SET, bytes.Join(attrs, nil))
	msg := signedAttrs
	if s.noAttrs {
		msg = s.content
	}
	h := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, s.signer.key, h[:])
	require.NoError(t, err)
	if s.tamper != nil {
		s.tamper(signedAttrs)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(3)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { addHashAlg(b) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(s.contentType)
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(s.content)
					})
				})
				b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
					for _, c := range s.certs {
						b.AddBytes(c)
					}
				})
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						s.addSignerInfo(b, signedAttrs, sig)
					})
				})
			})
		})
	})
	return b.BytesOrPanic()
}

func (s sdSpec) addSignerInfo(b *cryptobyte.Builder, signedAttrs, sig []byte) {
	if s.bySKI {
		b.AddASN1Int64(3)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(s.signer.cert.SubjectKeyId) })
	} else {
		b.AddASN1Int64(1)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(s.signer.cert.RawIssuer)
			b.AddASN1BigInt(s.signer.cert.SerialNumber)
		})
	}
	addHashAlg(b)
	if !s.noAttrs {
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			h, _ := readBERHeader(signedAttrs)
			b.AddBytes(signedAttrs[h.size:])
		})
	}
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidECDSAWithSHA256) })
	b.AddASN1OctetString(sig)
}

func addHashAlg(b *cryptobyte.Builder) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSHA256)
		b.AddASN1NULL()
	})
}

func attribute(oid asn1.ObjectIdentifier, value func(b *cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.SET, value)
	})
	return b.BytesOrPanic()
}

// element encodes one DER element; content shorter than 64 KiB.
func element(tag cbasn1.Tag, content []byte) []byte {
	return appendElement(nil, []byte{byte(tag)}, content)
}

// ldsSecurityObject encodes an LDSSecurityObject v0 with SHA-256 hashes
// of the data groups (9303-10 §4.6.2.2).
func ldsSecurityObject(dgs map[int][]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		addHashAlg(b)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			for _, n := range []int{1, 2, 14, 15} {
				if dg, ok := dgs[n]; ok {
					h := sha256.Sum256(dg)
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(int64(n))
						b.AddASN1OctetString(h[:])
					})
				}
			}
		})
	})
	return b.BytesOrPanic()
}

// testSOD builds an EF.SOD (0x77-tagged) signed by ds.
func testSOD(t testing.TB, ds *testCert, mod func(*sdSpec)) []byte {
	t.Helper()
	s := sdSpec{
		contentType: OIDLDSSecurityObject,
		content:     ldsSecurityObject(map[int][]byte{1: []byte("dg1"), 2: []byte("dg2")}),
		certs:       [][]byte{ds.der},
		signer:      ds,
		signingTime: fixtureSign,
	}
	if mod != nil {
		mod(&s)
	}
	return appendElement(nil, []byte{0x77}, s.build(t))
}

// testMasterList builds a CSCA master list of certs signed by signer.
func testMasterList(t testing.TB, signer *testCert, chain [][]byte, certs [][]byte) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(0)
		b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
			for _, c := range certs {
				b.AddBytes(c)
			}
		})
	})
	return sdSpec{
		contentType: OIDCSCAMasterList, content: b.BytesOrPanic(),
		certs: append([][]byte{signer.der}, chain...), signer: signer, signingTime: fixtureSign,
	}.build(t)
}

// newMLSigner makes a master list signer certificate (9303-12 §9: issued
// by the CSCA, digitalSignature).
func newMLSigner(t testing.TB, csca *testCert) *testCert {
	t.Helper()
	return issue(t, utName("Master List Signer", csca.cert.Subject.Country[0]), newP256(t), csca,
		x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature})
}

// testCRL builds a DER CRL of csca revoking the serials.
func testCRL(t testing.TB, csca *testCert, serials ...*big.Int) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range serials {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: fixtureStart.AddDate(1, 0, 0)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(3), ThisUpdate: fixtureStart, NextUpdate: fixtureEnd,
		RevokedCertificateEntries: entries,
	}, csca.cert, csca.key)
	require.NoError(t, err)
	return der
}

// ldifEntry writes one LDIF record with the attribute base64 encoded and
// folded at 76 columns (RFC 2849 note 2).
func ldifEntry(dn, attr string, der []byte) string {
	line := attr + ":: " + b64(der)
	var out bytes.Buffer
	out.WriteString("dn: " + dn + "\n")
	for len(line) > 76 {
		out.WriteString(line[:76] + "\n ")
		line = line[76:]
	}
	out.WriteString(line + "\n\n")
	return out.String()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
