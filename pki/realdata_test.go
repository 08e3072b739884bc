package pki

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realData is testdata/realdata: published EF.SOD files and CSCAs of
// real documents (sources and expected verdicts in its README.md).
var realData = filepath.Join("..", "testdata", "realdata")

// checkTime is when the expected verdicts were established; EF.SOD files
// without signingTime are judged at it, so the test does not age.
var checkTime = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// realStore loads every trust file of testdata/realdata.
func realStore(t testing.TB) (*Store, []LoadReport) {
	t.Helper()
	s := &Store{Now: func() time.Time { return checkTime }}
	reports, err := s.LoadPath(realData)
	require.NoError(t, err, "LoadPath")
	return s, reports
}

func TestRealDataStore(t *testing.T) {
	s, reports := realStore(t)
	var cscas, skipped, crlWarnings int
	for _, r := range reports {
		cscas += r.CSCAs
		skipped += r.Skipped
		assert.Empty(t, r.Error, r.Path)
		switch {
		case r.Kind == KindCRL:
			assert.Zero(t, r.CRLs, "NL CRL without its CSCA: %+v", r)
			if assert.Len(t, r.Warnings, 1, "NL CRL without its CSCA: %+v", r) {
				assert.Contains(t, r.Warnings[0], "not loaded", "NL CRL without its CSCA")
			}
			crlWarnings++
		case strings.Contains(filepath.Base(r.Path), "DS"):
			assert.Equal(t, 1, r.Skipped, "%s: a DS certificate is no trust anchor: %+v", r.Path, r)
			assert.Zero(t, r.CSCAs, "%s: a DS certificate is no trust anchor: %+v", r.Path, r)
		case strings.Contains(filepath.Base(r.Path), "CSCA"):
			assert.Equal(t, 1, r.CSCAs, "%s: %+v", r.Path, r)
			assert.Zero(t, r.Skipped, "%s: %+v", r.Path, r)
		}
	}
	// 23 CSCA certificates of 17 States (3 of them link certificates) and
	// the DS certificates found beside the EF.SOD files.
	assert.Equal(t, 23, cscas, "CSCAs in the reports")
	assert.Equal(t, 23, s.Len(), "CSCAs in the store")
	assert.Equal(t, 1, crlWarnings, "CRL warnings")
	assert.Zero(t, s.CRLs(), "CRLs")
	assert.NotZero(t, skipped, "DS certificates were taken as trust anchors")
}

// TestRealDataSOD verifies each State's published EF.SOD against the
// CSCAs of testdata/realdata.
func TestRealDataSOD(t *testing.T) {
	s, _ := realStore(t)
	for _, tc := range []struct {
		file, mrz string
		want      Status
		src       TimeSource
		csca      string // the DS's issuer's CN or OU
		chain     int
	}{
		{"AT/EF.SOD.bin", "AUT", StatusValid, SigningTime, "CSCA-AUSTRIA", 2}, // via the 2019 link certificate
		{"CN/EF.SOD.bin", "CHN", StatusValid, SigningTime, "China Passport Country Signing Certificate", 1},
		{"DE/EF.SOD.bin", "D<<", StatusValid, CheckTime, "csca-germany", 1},
		{"FI/EF.SOD.bin", "FIN", StatusValid, CheckTime, "CSCA Finland", 1},
		{"FR/EF.SOD.bin", "FRA", StatusValid, SigningTime, "CSCA-FRANCE", 1},
		{"GB/EF.SOD.bin", "GBR", StatusValid, CheckTime, "Country Signing Authority", 1},
		{"MY/EF.SOD.bin", "MYS", StatusValid, SigningTime, "Malaysia Country Signer", 1},
		{"NZ/EF.SOD.bin", "NZL", StatusValid, SigningTime, "", 1},
		{"PH/EF.SOD.bin", "PHL", StatusValid, SigningTime, "CSCA01006", 1},
		{"US/EF.SOD.bin", "USA", StatusValid, SigningTime, "", 1},
		// Link certificates whose self-signed roots are not published
		// here: loaded as trusted, they are the anchors.
		{"RU/EF.SOD.bin", "RUS", StatusValid, SigningTime, "CSCA-Russia", 1},
		{"SG/EF.SOD.bin", "SGP", StatusValid, CheckTime, "Singapore Passport CA 5", 1},
		{"SG/EF.SOD-2.bin", "SGP", StatusValid, CheckTime, "Singapore Passport CA 5", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sod := readFile(t, tc.file)
			v := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: tc.mrz})
			require.Equal(t, tc.want, v.Status, v.Reason)
			require.Equal(t, tc.src, v.ValidityTimeSource, "validity judged at")
			require.NotNil(t, v.Signer, "signature not verified")
			require.NotEmpty(t, v.Hashes, "signature not verified")
			require.NotZero(t, v.HashAlgorithm, "signature not verified")
			state := strings.Split(tc.file, "/")[0]
			assert.Equal(t, state, v.DocumentSigner.Country, "DS country")
			assert.Len(t, v.Chain, tc.chain, "chain")
			if tc.csca != "" && assert.NotNil(t, v.CSCA, "CSCA") {
				assert.Contains(t, v.CSCA.Subject.String(), tc.csca, "CSCA")
			}
			if tc.want == StatusValid {
				top := v.Chain[len(v.Chain)-1]
				assert.True(t, top.IsCA, "chain does not end at a CSCA")
				if state != "RU" && state != "SG" { // their roots are not here: link certificates are the anchors
					assert.True(t, top.SelfSigned(), "chain does not end at a self-signed CSCA")
				}
				// The wrong State's code in the MRZ.
				w := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: "UTO"})
				assert.Equal(t, StatusValid, w.Status, "unknown MRZ code must not be judged")
				other := "FRA"
				if state == "FR" {
					other = "d"
				}
				w = VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: other})
				assert.Equal(t, StatusCountryMismatch, w.Status, "MRZ %s", other)
			}
		})
	}
}

// TestRealDataFlippedSignature flips one bit of each real signature.
func TestRealDataFlippedSignature(t *testing.T) {
	s, _ := realStore(t)
	for _, file := range []string{"AT/EF.SOD.bin", "NZ/EF.SOD.bin", "MY/EF.SOD.bin", "DE/EF.SOD.bin"} {
		t.Run(file, func(t *testing.T) {
			sod := readFile(t, file)
			sd, err := ParseSignedData(sod)
			require.NoError(t, err)
			sig := sd.Signers[0].Signature
			i := bytes.Index(sod, sig)
			require.GreaterOrEqual(t, i, 0, "signature not found in the file")
			sod[i+len(sig)/2] ^= 0x01
			v := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }})
			require.Equal(t, StatusInvalid, v.Status, "flipped signature: %s", v.Reason)
			require.Nil(t, v.Signer, "flipped signature")
			_, err = mustSignedData(t, sod).Verify()
			require.ErrorIs(t, err, ErrSignature, "Verify")
		})
	}
}

// TestRealDataEncodings covers the encoding quirks the real files have.
func TestRealDataEncodings(t *testing.T) {
	nz := mustSignedData(t, readFile(t, "NZ/EF.SOD.bin"))
	assert.True(t, bytes.Contains(readFile(t, "NZ/EF.SOD.bin"), []byte{0x30, 0x80}), "NZ is expected to be BER with indefinite lengths")
	assert.Equal(t, "rsaEncryption", nz.Signers[0].SignatureAlgorithm.String(), "NZ's signature algorithm")
	cn := mustSignedData(t, readFile(t, "CN/EF.SOD.bin"))
	assert.True(t, cn.ContentType.Equal(oidData), "CN content type %v", cn.ContentType)
	my := mustSignedData(t, readFile(t, "MY/EF.SOD.bin"))
	assert.False(t, my.Signers[0].Issuer.Equal(my.Certificates[0].Issuer), "MY's SignerInfo issuer is expected in another RDN order")
	for _, sd := range []*SignedData{nz, cn, my} {
		_, err := sd.Verify()
		assert.NoError(t, err)
	}
	// The NL CRL parses; its CSCA is not here.
	crl, err := ParseCRL(readFile(t, "NL/CSCA-NL-serial7.crl"))
	require.NoError(t, err, "NL CRL")
	require.Equal(t, int64(7), crl.Number.Int64(), "NL CRL number")
	require.Empty(t, crl.Revoked, "NL CRL")
	require.Len(t, crl.AuthorityKeyID, 32, "NL CRL AKI")
	require.Contains(t, crl.Issuer.String(), "CSCA NL", "NL CRL issuer")
	// The DE CardSecurity is a SignedData of the same DS.
	cs := mustSignedData(t, readFile(t, "DE/EF.CardSecurity.bin"))
	signer, err := cs.Verify()
	require.NoError(t, err, "DE EF.CardSecurity")
	require.Equal(t, readFile(t, "DE/DS.der"), signer.Raw, "DE EF.CardSecurity signer")
}

// TestRealDataExpiredAnchor judges the AT chain at a time after its CSCAs
// expired, and DE against only an expired CSCA of the same name.
func TestRealDataExpiredAnchor(t *testing.T) {
	s, _ := realStore(t)
	ds := mustParse(t, readFile(t, "AT/DS.der"))
	r := s.VerifyDS(ds, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), CheckTime)
	require.Equal(t, StatusExpired, r.Status, "AT in 2031: %s", r.Reason)
	r = s.VerifyDS(ds, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), CheckTime)
	require.Equal(t, StatusNotYetValid, r.Status, "AT in 2022: %s", r.Reason)
	old := &Store{}
	require.NoError(t, old.AddCertificate(mustParse(t, readFile(t, "DE/CSCA-2011-serial100.der"))))
	de := mustParse(t, readFile(t, "DE/DS.der"))
	r = old.VerifyDS(de, checkTime, CheckTime)
	require.Equal(t, StatusNoTrustAnchor, r.Status, "DE against the 2011 CSCA: %s", r.Reason)
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realData, filepath.FromSlash(name)))
	require.NoError(t, err)
	return b
}

func mustSignedData(t testing.TB, b []byte) *SignedData {
	t.Helper()
	sd, err := ParseSignedData(b)
	require.NoError(t, err)
	return sd
}

// collection is testdata/csca-collection: 551 CSCA certificates of States
// as an eMRTD project published them (sources in its README.md).
var collection = filepath.Join("..", "testdata", "csca-collection")

// TestCSCACollection loads a published collection of States' CSCAs, the
// kind of set a master list carries, and verifies every State's EF.SOD
// of testdata/realdata against it alone: the right anchor is found among
// hundreds, and the profile deviations of real CSCAs (no basicConstraints,
// cA FALSE, cA encoded 01, a key identifier without its OCTET STRING) do
// not lose a State.
func TestCSCACollection(t *testing.T) {
	s := &Store{Now: func() time.Time { return checkTime }}
	reports, err := s.LoadPath(collection)
	require.NoError(t, err)
	require.Len(t, reports, 1)
	r := reports[0]
	assert.Equal(t, 550, r.CSCAs, "CSCAs")
	assert.Equal(t, 550, s.Len(), "CSCAs in the store")
	assert.Equal(t, 1, r.Skipped, "the one DS certificate in the collection (UA)")
	var deviations int
	for _, w := range r.Warnings {
		if strings.Contains(w, "taken as a CSCA for its keyUsage keyCertSign") {
			deviations++
		}
	}
	assert.Equal(t, 6, deviations, "BE ×2, FI, LU, TR, CM: %q", r.Warnings)
	for _, sub := range []string{"CN=CSCA-UKRAINE", "C=LT,O=ADIC under MoI,CN=CSCA,serialNumber=003"} {
		found := false
		for _, c := range s.certs {
			found = found || c.Subject.String() == sub || strings.Contains(c.Subject.String(), sub)
		}
		assert.True(t, found, "%s loaded", sub)
	}

	states := map[string]bool{}
	for _, file := range []string{"AT/EF.SOD.bin", "CN/EF.SOD.bin", "DE/EF.SOD.bin", "FI/EF.SOD.bin",
		"FR/EF.SOD.bin", "GB/EF.SOD.bin", "MY/EF.SOD.bin", "NZ/EF.SOD.bin", "PH/EF.SOD.bin",
		"RU/EF.SOD.bin", "SG/EF.SOD.bin", "SG/EF.SOD-2.bin", "US/EF.SOD.bin"} {
		v := VerifySOD(readFile(t, file), s, VerifyOptions{Now: func() time.Time { return checkTime }})
		if assert.Equal(t, StatusValid, v.Status, "%s: %s", file, v.Reason) {
			states[v.DocumentSigner.Country] = true
		}
	}
	assert.Len(t, states, 12, "States whose EF.SOD is valid against the collection")
}
