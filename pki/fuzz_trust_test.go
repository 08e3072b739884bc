package pki

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// kindOK reports whether err is one of the parsers' error kinds.
func kindOK(err error) bool { return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported) }

func sodSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(realData, "*", "EF.*.bin"))
	for _, name := range files {
		rel, _ := filepath.Rel(realData, name)
		f.Add(readFile(f, filepath.ToSlash(rel)))
	}
	require.NotEmpty(f, files, "no seeds")
}

// FuzzParseSignedData checks: no panic, nil with every error and only the
// package's kinds, and that an accepted SignedData's DER parses again to
// the same content and signers; Verify must not panic.
func FuzzParseSignedData(f *testing.F) {
	sodSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		sd, err := ParseSignedData(b)
		if err != nil {
			require.Nil(t, sd, "SignedData with an error")
			require.True(t, kindOK(err), "bad error result: %v", err)
			return
		}
		again, err := ParseSignedData(sd.Raw)
		require.NoError(t, err, "DER does not parse")
		// bytes.Equal: an empty content may come back nil on one side.
		require.True(t, bytes.Equal(again.Content, sd.Content), "DER does not parse to the same content")
		require.Len(t, again.Signers, len(sd.Signers), "DER does not parse to the same signers")
		require.Len(t, again.Certificates, len(sd.Certificates), "DER does not parse to the same certificates")
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
			require.Nil(t, ml, "master list with an error")
			require.True(t, kindOK(err), "bad error result: %v", err)
			return
		}
		for _, c := range ml.Certificates {
			require.True(t, bytes.Contains(ml.SignedData.Content, c.Raw), "certificate not from the list")
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
			require.Nil(t, l, "LDIF with an error")
			require.True(t, kindOK(err), "bad error result: %v", err)
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
		require.NoError(t, err, "round trip")
		require.Len(t, again.Certificates, len(l.Certificates), "round trip")
		require.Len(t, again.MasterLists, len(l.MasterLists), "round trip")
		require.Len(t, again.CRLs, len(l.CRLs), "round trip")
		for i := range l.Certificates {
			// bytes.Equal: an empty value may come back nil on one side.
			require.True(t, bytes.Equal(again.Certificates[i], l.Certificates[i]), "round trip changed a value")
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
			require.Nil(t, c, "CRL with an error")
			require.True(t, kindOK(err), "bad error result: %v", err)
			return
		}
		again, err := ParseCRL(c.Raw)
		require.NoError(t, err, "second parse")
		require.True(t, again.Issuer.Equal(c.Issuer), "second parse: issuer differs")
		require.Len(t, again.Revoked, len(c.Revoked), "second parse: revoked entries")
		require.True(t, bytes.Contains(c.Raw, c.RawTBSCertList), "raw TBSCertList is not in the CRL")
		_ = c.CheckSignatureFrom(mustParse(t, csca.der))
	})
}
