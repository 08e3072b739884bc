package pki

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/group"
)

func verifyAt(sod []byte, s *Store, mrz string) Verdict {
	return VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: mrz})
}

func storeOf(t *testing.T, certs ...*testCert) *Store {
	t.Helper()
	s := &Store{}
	for _, c := range certs {
		require.NoError(t, s.AddCertificate(mustParse(t, c.der)))
	}
	return s
}

// TestVerifySOD covers the verdicts of passive authentication on a test
// PKI, one case per way an EF.SOD can fail.
func TestVerifySOD(t *testing.T) {
	csca := newCSCA(t, "CSCA Utopia", "UT")
	ds := newDS(t, csca, "DS Utopia", "UT")
	// Same name and key identifier as the CSCA, another key.
	otherTmpl := cscaTemplate()
	otherTmpl.SubjectKeyId = csca.cert.SubjectKeyId
	other := issue(t, utName("CSCA Utopia", "UT"), newP256(t), nil, otherTmpl)
	store := storeOf(t, csca)

	forgedSelf := issue(t, utName("DS Utopia", "UT"), newP256(t), nil, x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature})
	// A DS that names the real CSCA and its key identifier but is signed
	// by another key.
	impostor := issue(t, utName("DS Utopia", "UT"), newP256(t), other, x509.Certificate{
		KeyUsage: x509.KeyUsageDigitalSignature, AuthorityKeyId: csca.cert.SubjectKeyId})
	foreign := newDS(t, newCSCA(t, "CSCA Erewhon", "UT"), "DS Erewhon", "UT")
	expired := issue(t, utName("DS Utopia", "UT"), newP256(t), csca, x509.Certificate{
		KeyUsage: x509.KeyUsageDigitalSignature, NotBefore: fixtureStart, NotAfter: fixtureStart.AddDate(1, 0, 0)})
	wrongState := newDS(t, csca, "DS Utopia", "XA")
	// A CA certificate without keyCertSign under the CSCA.
	notCA := issue(t, utName("CSCA Nowhere", "UT"), newP256(t), csca, x509.Certificate{
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature})

	for _, tc := range []struct {
		name  string
		sod   []byte
		store *Store
		mrz   string
		want  Status
		src   TimeSource
		err   error // of SignedData.Verify
	}{
		{name: "valid", sod: testSOD(t, ds, nil), want: StatusValid, src: SigningTime},
		{name: "valid MRZ", sod: testSOD(t, ds, nil), mrz: "ut<", want: StatusValid, src: SigningTime},
		{name: "sid by key identifier", sod: testSOD(t, ds, func(s *sdSpec) { s.bySKI = true }), want: StatusValid, src: SigningTime},
		{name: "no signingTime", sod: testSOD(t, ds, func(s *sdSpec) { s.signingTime = time.Time{} }), want: StatusValid, src: CheckTime},
		{name: "id-data content", sod: testSOD(t, ds, func(s *sdSpec) { s.contentType = oidData }), want: StatusValid, src: SigningTime},
		{name: "no signed attributes", sod: testSOD(t, ds, func(s *sdSpec) { s.noAttrs = true }), want: StatusValid, src: CheckTime},
		{name: "changed signed attributes", sod: testSOD(t, ds, func(s *sdSpec) { s.tamper = flipSigningTime }),
			want: StatusInvalid, err: ErrSignature},
		{name: "content type attribute", sod: testSOD(t, ds, func(s *sdSpec) { s.attrType = oidData }), want: StatusInvalid, err: ErrDigest},
		{name: "forged self-signed DS", sod: testSOD(t, forgedSelf, nil), want: StatusNoTrustAnchor, src: SigningTime},
		{name: "DS of an unknown CSCA", sod: testSOD(t, foreign, nil), want: StatusNoTrustAnchor, src: SigningTime},
		{name: "DS claiming the CSCA's key", sod: testSOD(t, impostor, nil), want: StatusInvalid, src: SigningTime},
		{name: "expired DS", sod: testSOD(t, expired, nil), want: StatusExpired, src: SigningTime},
		{name: "expired DS at check time", sod: testSOD(t, expired, func(s *sdSpec) { s.signingTime = time.Time{} }), want: StatusExpired, src: CheckTime},
		{name: "DS not yet valid", sod: testSOD(t, ds, func(s *sdSpec) { s.signingTime = fixtureStart.AddDate(-1, 0, 0) }), want: StatusNotYetValid, src: SigningTime},
		{name: "DS of another State", sod: testSOD(t, wrongState, nil), want: StatusCountryMismatch, src: SigningTime},
		{name: "MRZ of another State", sod: testSOD(t, ds, nil), mrz: "D", want: StatusCountryMismatch, src: SigningTime},
		{name: "revoked DS", sod: testSOD(t, ds, nil), store: revokingStore(t, csca, ds), want: StatusRevoked, src: SigningTime},
		{name: "CSCA without keyCertSign", sod: testSOD(t, newDS(t, notCA, "DS Nowhere", "UT"), nil), store: storeOf(t, csca, notCA),
			want: StatusInvalid, src: SigningTime},
		{name: "no store", sod: testSOD(t, ds, nil), store: &Store{}, want: StatusNoTrustAnchor, src: SigningTime},
		{name: "DS on an unknown curve", sod: unknownCurveSOD(t), want: StatusUnsupported, err: ErrUnsupported},
		{name: "signer not included", sod: testSOD(t, ds, func(s *sdSpec) { s.certs = [][]byte{csca.der} }), want: StatusNoTrustAnchor, err: ErrNoSigner},
		{name: "truncated", sod: testSOD(t, ds, nil)[:300], want: StatusInvalid, err: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := store
			if tc.store != nil {
				s = tc.store
			}
			v := verifyAt(tc.sod, s, tc.mrz)
			require.Equal(t, tc.want, v.Status, v.Reason)
			if v.Status != StatusValid {
				assert.NotEmpty(t, v.Reason, "no reason given")
			}
			if tc.src != "" {
				assert.Equal(t, tc.src, v.ValidityTimeSource, "validity judged at")
			}
			if tc.err != nil {
				sd, err := ParseSignedData(tc.sod)
				if err == nil {
					_, err = sd.Verify()
				}
				assert.ErrorIs(t, err, tc.err)
			}
			if v.Status == StatusValid {
				assert.Len(t, v.Hashes, 2, "valid verdict lacks data: %+v", v)
				if assert.NotNil(t, v.CSCA, "valid verdict lacks data: %+v", v) {
					assert.Equal(t, "CSCA Utopia", v.CSCA.Subject.CommonName(), "valid verdict's CSCA")
				}
			}
		})
	}
}

// flipSigningTime changes a digit of the signingTime attribute.
func flipSigningTime(attrs []byte) {
	i := bytes.Index(attrs, []byte{0x17, 0x0d})
	attrs[i+3] ^= 1
}

func revokingStore(t *testing.T, csca, ds *testCert) *Store {
	s := storeOf(t, csca)
	crl, err := ParseCRL(testCRL(t, csca, big.NewInt(7), ds.cert.SerialNumber))
	require.NoError(t, err)
	require.NoError(t, s.AddCRL(crl))
	return s
}

// unknownCurveSOD is an EF.SOD whose DS key has explicit parameters of no
// standardized curve (P-256 with another b).
func unknownCurveSOD(t *testing.T) []byte {
	c, _ := group.CurveByOID([]int{1, 2, 840, 10045, 3, 1, 7})
	p := c.Params()
	p.B = new(big.Int).Add(p.B, big.NewInt(1))
	k := newECSigner(t, c, false)
	key := rawKey{spkiBytes: spkiDER(oidECPublicKey, explicitParams(p, c), c.Marshal(c.ScalarBaseMult(k.d))), signer: k}
	spec := dsSpec(t, k, key, "ecdsa-with-SHA256")
	der := spec.build(t)
	_, err := ParseCertificate(der)
	require.ErrorIs(t, err, ErrUnsupported, "DS on an unknown curve")
	ds := &testCert{der: der, cert: &x509.Certificate{RawIssuer: nameDER(t, spec.issuer), SerialNumber: big.NewInt(0x123)}, key: newP256(t)}
	return testSOD(t, ds, nil)
}

// rawKey is a signer with a given SubjectPublicKeyInfo.
type rawKey struct {
	spkiBytes []byte
	signer
}

func (k rawKey) spki() []byte { return k.spkiBytes }

// TestLinkCertificates chains a DS through a link certificate (the new
// CSCA key signed by the old, 9303-12 §7.1.1) and through a re-issued
// self-signed CSCA with the same new key.
func TestLinkCertificates(t *testing.T) {
	oldRoot := newCSCA(t, "CSCA Utopia", "UT")
	newKey := newP256(t)
	// crypto/x509 leaves out the AKI when issuer and subject names are
	// equal; a link certificate has one (9303-12 §7.1.1).
	linkTmpl := cscaTemplate()
	linkTmpl.AuthorityKeyId = oldRoot.cert.SubjectKeyId
	link := issue(t, utName("CSCA Utopia", "UT"), newKey, oldRoot, linkTmpl)
	// The same link without AKI: taken as a link, not refused as a bad
	// self-signed CSCA.
	linkNoAKI := issue(t, utName("CSCA Utopia", "UT"), newKey, oldRoot, cscaTemplate())
	newRoot := issue(t, utName("CSCA Utopia", "UT"), newKey, nil, cscaTemplate())
	ds := newDS(t, link, "DS Utopia", "UT")
	sod := testSOD(t, ds, nil)
	for _, tc := range []struct {
		name  string
		store *Store
		want  Status
		chain int
	}{
		{"old root and link", storeOf(t, oldRoot, link), StatusValid, 2},
		{"link alone", storeOf(t, link), StatusValid, 1}, // a loaded link is an anchor
		{"new root alone", storeOf(t, newRoot), StatusValid, 1},
		{"all", storeOf(t, link, oldRoot, newRoot), StatusValid, 0},
		{"old root alone", storeOf(t, oldRoot), StatusNoTrustAnchor, 0},
		{"link without AKI", storeOf(t, oldRoot, linkNoAKI), StatusValid, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verifyAt(sod, tc.store, "UTO")
			require.Equal(t, tc.want, v.Status, v.Reason)
			if tc.chain != 0 && tc.want == StatusValid {
				assert.Len(t, v.Chain, tc.chain, "chain")
			}
		})
	}
}

// writeFiles writes files into a new directory.
func writeFiles(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o644))
	}
	return dir
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestLoadPath loads a trust directory with a CSCA, a master list signed
// by a signer of that CSCA, an LDIF file and a PEM CRL, and checks the
// reports and what they give.
func TestLoadPath(t *testing.T) {
	csca := newCSCA(t, "CSCA Utopia", "UT")
	signer := newMLSigner(t, csca)
	erewhon, oz := newCSCA(t, "CSCA Erewhon", "EW"), newCSCA(t, "CSCA Oz", "OZ")
	ml := testMasterList(t, signer, nil, [][]byte{csca.der, erewhon.der, oz.der})
	dsOz := newDS(t, oz, "DS Oz", "OZ")
	ldifOther := newCSCA(t, "CSCA Lilliput", "LP")
	dsLP := newDS(t, ldifOther, "DS Lilliput", "LP")
	ldif := "version: 1\n# ICAO PKD export\n\n" +
		ldifEntry("cn=lp,o=csca", "userCertificate;binary", ldifOther.der) +
		ldifEntry("cn=ml,o=ml", "CscaMasterListData", ml) +
		ldifEntry("cn=crl,o=crl", "certificateRevocationList;binary", testCRL(t, ldifOther, dsLP.cert.SerialNumber))
	dir := writeFiles(t, map[string][]byte{
		"ut/csca.pem":      pemCert(csca.der),
		"ut/ut.ml":         ml,
		"pkd/icao.ldif":    []byte(ldif),
		"oz/oz.crl":        pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: testCRL(t, oz, dsOz.cert.SerialNumber)}),
		"oz/EF.SOD.bin":    []byte("ignored"),
		"oz/readme.txt":    []byte("ignored"),
		"ut/ds-utopia.cer": newDS(t, csca, "DS Utopia", "UT").der,
	})
	s := &Store{Now: func() time.Time { return checkTime }}
	reports, err := s.LoadPath(dir)
	require.NoError(t, err)
	byName := map[string]LoadReport{}
	for _, r := range reports {
		byName[filepath.Base(r.Path)] = r
	}
	r := byName["csca.pem"]
	assert.Equal(t, 1, r.CSCAs, "csca.pem: %+v", r)
	assert.Equal(t, KindCertificate, r.Kind, "csca.pem: %+v", r)
	r = byName["ds-utopia.cer"]
	assert.Zero(t, r.CSCAs, "DS file: %+v", r)
	assert.Equal(t, 1, r.Skipped, "DS file: %+v", r)
	r = byName["ut.ml"]
	assert.Equal(t, KindMasterList, r.Kind, "master list: %+v", r)
	assert.Equal(t, 3, r.CSCAs, "master list: %+v", r)
	assert.Equal(t, 3, r.Duplicates, "master list: %+v", r)
	if assert.Len(t, r.Signers, 1, "master list: %+v", r) && assert.True(t, r.Signers[0].Chained, "master list: %+v", r) {
		assert.Equal(t, "CSCA Utopia", r.Signers[0].ChainedTo.CommonName(), "master list signer chained to")
	}
	// The LDIF is loaded before the master list (and its CRL waits for
	// nothing: its CSCA is in the same file); its master list signer's
	// CSCA was loaded from csca.pem before.
	r = byName["icao.ldif"]
	assert.Equal(t, KindLDIF, r.Kind, "LDIF: %+v", r)
	assert.Equal(t, 4, r.CSCAs, "LDIF: %+v", r)
	assert.Equal(t, 1, r.CRLs, "LDIF: %+v", r)
	if assert.Len(t, r.Signers, 1, "LDIF: %+v", r) {
		assert.True(t, r.Signers[0].Chained, "LDIF: %+v", r)
	}
	r = byName["oz.crl"]
	assert.Equal(t, 1, r.CRLs, "CRL: %+v", r)
	assert.Empty(t, r.Warnings, "CRL: %+v", r)
	assert.NotContains(t, byName, "EF.SOD.bin", "reports")
	assert.Len(t, reports, 5, "reports")
	assert.Equal(t, 4, s.Len(), "store certificates")
	assert.Equal(t, 2, s.CRLs(), "store CRLs")
	assert.Len(t, s.Reports(), 5, "store reports")
	v := verifyAt(testSOD(t, dsOz, nil), s, "OZ")
	assert.Equal(t, StatusRevoked, v.Status, "revoked by the PEM CRL: %s", v.Reason)
	v = verifyAt(testSOD(t, dsLP, nil), s, "")
	assert.Equal(t, StatusRevoked, v.Status, "revoked by the LDIF CRL: %s", v.Reason)
	v = verifyAt(testSOD(t, newDS(t, erewhon, "DS Erewhon", "EW"), nil), s, "")
	assert.Equal(t, StatusValid, v.Status, "CSCA from the master list: %s", v.Reason)
}

// TestLoadMasterListRefused checks that a master list whose signature
// fails is refused with an error naming the file, and that a signer of a
// CSCA not given separately is reported as not chained.
func TestLoadMasterListRefused(t *testing.T) {
	csca := newCSCA(t, "CSCA Utopia", "UT")
	signer := newMLSigner(t, csca)
	ml := testMasterList(t, signer, nil, csca.derList())
	bad := append([]byte(nil), ml...)
	sd := mustSignedData(t, ml)
	sig := sd.Signers[0].Signature
	i := strings.Index(string(bad), string(sig))
	bad[i+5] ^= 0x10
	badCRL := testCRL(t, csca)
	badCRL[len(badCRL)-1] ^= 0x01
	dir := writeFiles(t, map[string][]byte{"good.ml": ml, "bad.ml": bad, "bad.crl": badCRL})
	s := &Store{Now: func() time.Time { return checkTime }}
	reports, err := s.LoadPath(dir)
	require.ErrorContains(t, err, filepath.Join(dir, "bad.ml"), "LoadPath")
	require.ErrorIs(t, err, ErrSignature, "LoadPath")
	assert.ErrorContains(t, err, "bad.crl", "a CRL whose signature fails is not refused")
	for _, r := range reports {
		switch filepath.Base(r.Path) {
		case "bad.ml":
			assert.NotEmpty(t, r.Error, "bad.ml: %+v", r)
			assert.Zero(t, r.CSCAs, "bad.ml: %+v", r)
		case "good.ml":
			assert.Equal(t, 1, r.CSCAs, "good.ml: %+v", r)
			if assert.Len(t, r.Signers, 1, "good.ml: %+v", r) {
				assert.False(t, r.Signers[0].Chained, "good.ml: %+v", r)
				assert.Equal(t, StatusNoTrustAnchor, r.Signers[0].Status, "good.ml: %+v", r)
			}
		}
	}
	assert.Equal(t, 1, s.Len(), "certificates")
	_, err = s.LoadPath(filepath.Join(dir, "missing.ml"))
	assert.Error(t, err, "missing file loaded")
	_, err = (&Store{}).LoadPath(writeFiles(t, map[string][]byte{"x.txt": nil}))
	assert.NoError(t, err, "directory without trust files")
}

func (c *testCert) derList() [][]byte { return [][]byte{c.der} }

// TestCRLPendingIssuer loads a CRL before its CSCA: the CRL waits and is
// used once a later load brings the CSCA.
func TestCRLPendingIssuer(t *testing.T) {
	csca := newCSCA(t, "CSCA Utopia", "UT")
	ds := newDS(t, csca, "DS Utopia", "UT")
	crlDir := writeFiles(t, map[string][]byte{"ut.crl": testCRL(t, csca, ds.cert.SerialNumber)})
	cscaDir := writeFiles(t, map[string][]byte{"ut.der": csca.der})
	s := &Store{}
	reports, err := s.LoadPath(crlDir)
	require.NoError(t, err, "CRL before its CSCA")
	require.Zero(t, s.CRLs(), "CRL before its CSCA: %+v", reports)
	require.NotEmpty(t, reports, "CRL before its CSCA")
	require.Len(t, reports[0].Warnings, 1, "CRL before its CSCA: %+v", reports)
	reports, err = s.LoadPath(cscaDir)
	require.NoError(t, err, "CSCA after its CRL")
	require.Equal(t, 1, s.CRLs(), "CSCA after its CRL: %+v", reports)
	require.Len(t, reports, 2, "CSCA after its CRL: %+v", reports)
	require.Equal(t, KindCRL, reports[1].Kind, "CSCA after its CRL: %+v", reports)
	v := verifyAt(testSOD(t, ds, nil), s, "")
	assert.Equal(t, StatusRevoked, v.Status, v.Reason)
}

func TestParseLDIF(t *testing.T) {
	cert := newCSCA(t, "CSCA Utopia", "UT").der
	text := "version: 1\r\n# a comment\r\n  continued comment\r\n\r\ndn: cn=x\r\nobjectClass: top\r\n" +
		strings.ReplaceAll(ldifEntry("cn=y", "userCertificate;binary", cert), "\n", "\r\n") +
		"dn: cn=z\ncertificateRevocationList;binary:: AQID\ndescription:: aGVsbG8=\n"
	l, err := ParseLDIF([]byte(text))
	require.NoError(t, err)
	require.Len(t, l.Certificates, 1)
	require.Equal(t, cert, l.Certificates[0])
	require.Len(t, l.CRLs, 1)
	require.Equal(t, []byte{1, 2, 3}, l.CRLs[0])
	require.Empty(t, l.MasterLists)
	for _, bad := range []string{"userCertificate;binary: not base64\n", "userCertificate;binary:: !!!\n", "no colon\n"} {
		_, err := ParseLDIF([]byte(bad))
		assert.ErrorIs(t, err, ErrMalformed, "%q", bad)
	}
}

func TestCountryAlpha2(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"D<<", "DE", true}, {"d", "DE", true}, {"DEU", "DE", true}, {"gbr", "GB", true}, {"GBD", "GB", true},
		{"NZL", "NZ", true}, {"RKS", "XK", true}, {"UT", "UT", true}, {"XXA", "", false}, {"UTO", "", false}, {"", "", false},
	} {
		got, ok := CountryAlpha2(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.Equal(t, tc.ok, ok, "%q", tc.in)
	}
}

// TestBERToDER checks the conversion on indefinite lengths, non-minimal
// lengths, a constructed OCTET STRING and the boundaries of the length
// forms.
func TestBERToDER(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in, out string
	}{
		{"DER kept", "3003020101", "3003020101"},
		{"indefinite", "3080020101" + "0000", "3003020101"},
		{"nested indefinite", "3080308002010100000000", "30053003020101"},
		{"non-minimal length", "308103020101", "3003020101"},
		{"constructed octet string", "2480040161040162" + "0000", "04026162"},
		{"long form kept", "04" + "81" + "80" + strings.Repeat("00", 0x80), "0481" + "80" + strings.Repeat("00", 0x80)},
		{"0x7f", "047f" + strings.Repeat("00", 0x7f), "047f" + strings.Repeat("00", 0x7f)},
		{"0x100", "04820100" + strings.Repeat("00", 0x100), "04820100" + strings.Repeat("00", 0x100)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := berToDER(hexBytes(t, tc.in))
			require.NoError(t, err)
			require.Equal(t, hexBytes(t, tc.out), got)
		})
	}
	for _, bad := range []string{"3080020101", "0480", "30", "3005020101", "30030201010000", "048500000001"} {
		_, err := berToDER(hexBytes(t, bad))
		assert.ErrorIs(t, err, ErrMalformed, bad)
	}
}

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

// TestIssuerNameOrder chains a DS whose issuer lists the CSCA's RDNs in
// another order, by key identifier.
func TestIssuerNameOrder(t *testing.T) {
	csca := newCSCA(t, "CSCA Utopia", "UT")
	reordered := *csca.cert
	reordered.RawSubject = nameDER(t, pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{
		{Type: asn1.ObjectIdentifier{2, 5, 4, 3}, Value: "CSCA Utopia"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 10}, Value: "Government of UT"},
		{Type: asn1.ObjectIdentifier{2, 5, 4, 6}, Value: "UT"},
	}})
	ds := issue(t, utName("DS Utopia", "UT"), newP256(t), &testCert{cert: &reordered, key: csca.key},
		x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature})
	require.False(t, mustParse(t, ds.der).Issuer.Equal(mustParse(t, csca.der).Subject), "names are expected to differ in order")
	v := verifyAt(testSOD(t, ds, nil), storeOf(t, csca), "UTO")
	require.Equal(t, StatusValid, v.Status, v.Reason)
}

// TestMasterListBrokenAnchor loads a master list that carries a
// self-signed CSCA whose signature does not verify: the list loads (its
// anchors are checked at first use) and a DS under it is invalid.
func TestMasterListBrokenAnchor(t *testing.T) {
	key := newP256(t)
	tmpl := cscaTemplate()
	tmpl.AuthorityKeyId = keyID(key) // a self-signed CSCA with AKI = SKI
	csca := issue(t, utName("CSCA Utopia", "UT"), key, nil, tmpl)
	ds := newDS(t, csca, "DS Utopia", "UT")
	broken := append([]byte(nil), csca.der...)
	broken[len(broken)-1] ^= 1 // the last octet of the ECDSA signature
	s := &Store{}
	dir := writeFiles(t, map[string][]byte{"ut.ml": testMasterList(t, newMLSigner(t, csca), nil, [][]byte{broken})})
	_, err := s.LoadPath(dir)
	require.NoError(t, err)
	require.Equal(t, 1, s.Len(), "certificates")
	v := verifyAt(testSOD(t, ds, nil), s, "")
	require.Equal(t, StatusInvalid, v.Status, v.Reason)
	require.Contains(t, v.Reason, "self-signature")
	require.ErrorIs(t, (&Store{}).AddCertificate(mustParse(t, broken)), ErrSignature, "AddCertificate")
	// Without AKI the same certificate could be a link certificate of the
	// CSCA's previous key (same name, signed by the old key, which is not
	// loaded): it is taken as one, and a loaded link certificate is an
	// anchor.
	noAKI := newCSCA(t, "CSCA Utopia", "UT")
	brokenNoAKI := append([]byte(nil), noAKI.der...)
	brokenNoAKI[len(brokenNoAKI)-1] ^= 1
	v = verifyAt(testSOD(t, newDS(t, noAKI, "DS Utopia", "UT"), nil), storeOf(t, &testCert{der: brokenNoAKI}), "")
	require.Equal(t, StatusValid, v.Status, "without AKI: %s", v.Reason)
	require.Len(t, v.Chain, 1)
}
