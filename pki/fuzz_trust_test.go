package pki

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// kindOK reports whether err is one of the parsers' error kinds.
func kindOK(err error) bool { return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported) }

func sodSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(realData, "*", "EF.*.bin"))
	for _, name := range files {
		rel, _ := filepath.Rel(realData, name)
		f.Add(readFile(f, filepath.ToSlash(rel)))
	}
	if len(files) == 0 {
		f.Fatal("no seeds")
	}
}

// FuzzParseSignedData checks: no panic, nil with every error and only the
// package's kinds, and that an accepted SignedData's DER parses again to
// the same content and signers; Verify must not panic.
func FuzzParseSignedData(f *testing.F) {
	sodSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSignedData(b)
		if err != nil {
			if sd != nil || !kindOK(err) {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		again, err := ParseSignedData(sd.Raw)
		if err != nil || !bytes.Equal(again.Content, sd.Content) || len(again.Signers) != len(sd.Signers) ||
			len(again.Certificates) != len(sd.Certificates) {
			t.Fatalf("DER does not parse to the same: %v", err)
		}
		_, _ = sd.Verify()
		_ = VerifySOD(b, nil, VerifyOptions{})
	})
}

// FuzzParseMasterList seeds with a test master list and the real EF.SOD
// files (the wrong content type).
func FuzzParseMasterList(f *testing.F) {
	csca := newCSCA(f, "CSCA Utopia", "UT")
	f.Add(testMasterList(f, newMLSigner(f, csca), nil, csca.derList()))
	sodSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		ml, err := ParseMasterList(b)
		if err != nil {
			if ml != nil || !kindOK(err) {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		for _, c := range ml.Certificates {
			if !bytes.Contains(ml.SignedData.Content, c.Raw) {
				t.Fatal("certificate not from the list")
			}
		}
		_, _ = ml.Verify()
	})
}

// FuzzParseLDIF checks that every value taken re-encodes into an LDIF
// that parses to the same values.
func FuzzParseLDIF(f *testing.F) {
	csca := newCSCA(f, "CSCA Utopia", "UT")
	f.Add([]byte("version: 1\n# c\n\n" + ldifEntry("cn=a", "userCertificate;binary", csca.der) +
		ldifEntry("cn=b", "CscaMasterListData", []byte("ml")) + ldifEntry("cn=c", "certificateRevocationList;binary", testCRL(f, csca))))
	f.Add([]byte("dn: x\r\nuserCertificate;binary:: AQ\r\n I=\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLDIF(b)
		if err != nil {
			if l != nil || !kindOK(err) {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		var sb strings.Builder
		for _, v := range l.Certificates {
			sb.WriteString(ldifEntry("cn=x", "userCertificate;binary", v))
		}
		for _, v := range l.MasterLists {
			sb.WriteString(ldifEntry("cn=x", "CscaMasterListData", v))
		}
		for _, v := range l.CRLs {
			sb.WriteString(ldifEntry("cn=x", "certificateRevocationList;binary", v))
		}
		again, err := ParseLDIF([]byte(sb.String()))
		if err != nil || len(again.Certificates) != len(l.Certificates) || len(again.MasterLists) != len(l.MasterLists) ||
			len(again.CRLs) != len(l.CRLs) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range l.Certificates {
			if !bytes.Equal(again.Certificates[i], l.Certificates[i]) {
				t.Fatal("round trip changed a value")
			}
		}
	})
}

// FuzzParseCRL seeds with the NL CRL and a test CRL with entries.
func FuzzParseCRL(f *testing.F) {
	f.Add(readFile(f, "NL/CSCA-NL-serial7.crl"))
	csca := newCSCA(f, "CSCA Utopia", "UT")
	f.Add(testCRL(f, csca, csca.cert.SerialNumber))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCRL(b)
		if err != nil {
			if c != nil || !kindOK(err) {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		again, err := ParseCRL(c.Raw)
		if err != nil || !again.Issuer.Equal(c.Issuer) || len(again.Revoked) != len(c.Revoked) ||
			!bytes.Contains(c.Raw, c.RawTBSCertList) {
			t.Fatalf("second parse differs: %v", err)
		}
		_ = c.CheckSignatureFrom(mustParse(t, csca.der))
	})
}
