package pki

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	if err != nil {
		t.Fatalf("LoadPath: %v", err)
	}
	return s, reports
}

func TestRealDataStore(t *testing.T) {
	s, reports := realStore(t)
	var cscas, skipped, crlWarnings int
	for _, r := range reports {
		cscas += r.CSCAs
		skipped += r.Skipped
		if r.Error != "" {
			t.Errorf("%s: %s", r.Path, r.Error)
		}
		switch {
		case r.Kind == KindCRL:
			if r.CRLs != 0 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "not loaded") {
				t.Errorf("NL CRL without its CSCA: %+v", r)
			}
			crlWarnings++
		case strings.Contains(filepath.Base(r.Path), "DS"):
			if r.Skipped != 1 || r.CSCAs != 0 {
				t.Errorf("%s: a DS certificate is no trust anchor: %+v", r.Path, r)
			}
		case strings.Contains(filepath.Base(r.Path), "CSCA"):
			if r.CSCAs != 1 || r.Skipped != 0 {
				t.Errorf("%s: %+v", r.Path, r)
			}
		}
	}
	// 23 CSCA certificates of 17 States (3 of them link certificates) and
	// the DS certificates found beside the EF.SOD files.
	if cscas != 23 || s.Len() != 23 || crlWarnings != 1 || s.CRLs() != 0 {
		t.Errorf("CSCAs %d (store %d), CRL warnings %d, CRLs %d", cscas, s.Len(), crlWarnings, s.CRLs())
	}
	if skipped == 0 {
		t.Error("DS certificates were taken as trust anchors")
	}
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
		// here: the chain stops at them.
		{"RU/EF.SOD.bin", "RUS", StatusNoTrustAnchor, SigningTime, "CSCA-Russia", 1},
		{"SG/EF.SOD.bin", "SGP", StatusNoTrustAnchor, CheckTime, "Singapore Passport CA 5", 1},
		{"SG/EF.SOD-2.bin", "SGP", StatusNoTrustAnchor, CheckTime, "Singapore Passport CA 5", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sod := readFile(t, tc.file)
			v := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: tc.mrz})
			if v.Status != tc.want || v.ValidityTimeSource != tc.src {
				t.Fatalf("status %s at %s, want %s at %s: %s", v.Status, v.ValidityTimeSource, tc.want, tc.src, v.Reason)
			}
			if v.Signer == nil || len(v.Hashes) == 0 || v.HashAlgorithm == 0 {
				t.Fatalf("signature not verified: %+v", v)
			}
			state := strings.Split(tc.file, "/")[0]
			if v.DocumentSigner.Country != state || len(v.Chain) != tc.chain {
				t.Errorf("DS country %s, chain of %d", v.DocumentSigner.Country, len(v.Chain))
			}
			if tc.csca != "" && (v.CSCA == nil || !strings.Contains(v.CSCA.Subject.String(), tc.csca)) {
				t.Errorf("CSCA %v", v.CSCA)
			}
			if tc.want == StatusValid {
				if !v.Chain[len(v.Chain)-1].SelfSigned() {
					t.Error("chain does not end at a self-signed CSCA")
				}
				// The wrong State's code in the MRZ.
				w := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: "UTO"})
				if w.Status != StatusValid {
					t.Errorf("unknown MRZ code must not be judged: %s", w.Status)
				}
				other := "FRA"
				if state == "FR" {
					other = "d"
				}
				w = VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }, IssuingState: other})
				if w.Status != StatusCountryMismatch {
					t.Errorf("MRZ %s: %s", other, w.Status)
				}
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
			if err != nil {
				t.Fatal(err)
			}
			sig := sd.Signers[0].Signature
			i := bytes.Index(sod, sig)
			if i < 0 {
				t.Fatal("signature not found in the file")
			}
			sod[i+len(sig)/2] ^= 0x01
			v := VerifySOD(sod, s, VerifyOptions{Now: func() time.Time { return checkTime }})
			if v.Status != StatusInvalid || v.Signer != nil {
				t.Fatalf("flipped signature: %s: %s", v.Status, v.Reason)
			}
			_, err = mustSignedData(t, sod).Verify()
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

// TestRealDataEncodings covers the encoding quirks the real files have.
func TestRealDataEncodings(t *testing.T) {
	nz := mustSignedData(t, readFile(t, "NZ/EF.SOD.bin"))
	if !bytes.Contains(readFile(t, "NZ/EF.SOD.bin"), []byte{0x30, 0x80}) || nz.Signers[0].SignatureAlgorithm.String() != "rsaEncryption" {
		t.Error("NZ is expected to be BER with indefinite lengths and rsaEncryption")
	}
	cn := mustSignedData(t, readFile(t, "CN/EF.SOD.bin"))
	if !cn.ContentType.Equal(oidData) {
		t.Errorf("CN content type %v", cn.ContentType)
	}
	my := mustSignedData(t, readFile(t, "MY/EF.SOD.bin"))
	if my.Signers[0].Issuer.Equal(my.Certificates[0].Issuer) {
		t.Error("MY's SignerInfo issuer is expected in another RDN order")
	}
	for _, sd := range []*SignedData{nz, cn, my} {
		if _, err := sd.Verify(); err != nil {
			t.Error(err)
		}
	}
	// The NL CRL parses; its CSCA is not here.
	crl, err := ParseCRL(readFile(t, "NL/CSCA-NL-serial7.crl"))
	if err != nil || crl.Number.Int64() != 7 || len(crl.Revoked) != 0 || len(crl.AuthorityKeyID) != 32 ||
		!strings.Contains(crl.Issuer.String(), "CSCA NL") {
		t.Fatalf("NL CRL: %v %+v", err, crl)
	}
	// The DE CardSecurity is a SignedData of the same DS.
	cs := mustSignedData(t, readFile(t, "DE/EF.CardSecurity.bin"))
	signer, err := cs.Verify()
	if err != nil || !bytes.Equal(signer.Raw, readFile(t, "DE/DS.der")) {
		t.Fatalf("DE EF.CardSecurity: %v", err)
	}
}

// TestRealDataExpiredAnchor judges the AT chain at a time after its CSCAs
// expired, and DE against only an expired CSCA of the same name.
func TestRealDataExpiredAnchor(t *testing.T) {
	s, _ := realStore(t)
	ds := mustParse(t, readFile(t, "AT/DS.der"))
	r := s.VerifyDS(ds, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), CheckTime)
	if r.Status != StatusExpired {
		t.Fatalf("AT in 2031: %s: %s", r.Status, r.Reason)
	}
	r = s.VerifyDS(ds, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC), CheckTime)
	if r.Status != StatusNotYetValid {
		t.Fatalf("AT in 2022: %s: %s", r.Status, r.Reason)
	}
	old := &Store{}
	if err := old.AddCertificate(mustParse(t, readFile(t, "DE/CSCA-2011-serial100.der"))); err != nil {
		t.Fatal(err)
	}
	de := mustParse(t, readFile(t, "DE/DS.der"))
	if r := old.VerifyDS(de, checkTime, CheckTime); r.Status != StatusNoTrustAnchor {
		t.Fatalf("DE against the 2011 CSCA: %s: %s", r.Status, r.Reason)
	}
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(realData, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustSignedData(t testing.TB, b []byte) *SignedData {
	t.Helper()
	sd, err := ParseSignedData(b)
	if err != nil {
		t.Fatal(err)
	}
	return sd
}
