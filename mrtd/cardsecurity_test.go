package mrtd

import (
	"testing"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/vchip"
)

func cardSecuritySpecimen(t testing.TB) []byte {
	t.Helper()
	infos, err := vchip.ParsePACEInfos("ECDH-GM-AES-128/brainpoolP256r1")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, PACE: infos,
		ChipAuth: &vchip.ChipAuthSpec{ParameterID: 12, KeyID: 3, Ciphers: []chipauth.Cipher{chipauth.AES256}}})
	if err != nil {
		t.Fatal(err)
	}
	return ds.Files[vchip.NameCardSecurity]
}

func TestCardSecurityInfos(t *testing.T) {
	cs := cardSecuritySpecimen(t)
	infos, err := cardSecurityInfos(cs)
	if err != nil {
		t.Fatal(err)
	}
	key, err := chipauth.Choose(infos)
	if err != nil || key.String() != "CA-ECDH-AES-CBC-CMAC-256 keyId=3 P-256" || len(infos.PACE) != 1 {
		t.Errorf("key %v (%v), %d PACEInfos", key, err, len(infos.PACE))
	}
	for _, bad := range [][]byte{nil, cs[:len(cs)/2], append([]byte{0x31}, cs[1:]...)} {
		if got, err := cardSecurityInfos(bad); err == nil || got != nil {
			t.Errorf("%d bytes: %v, %v", len(bad), got, err)
		}
	}
}

// FuzzCardSecurityInfos checks the EF.CardSecurity parser on chip bytes:
// no panic, and a nil result exactly when there is an error.
func FuzzCardSecurityInfos(f *testing.F) {
	f.Add(cardSecuritySpecimen(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		infos, err := cardSecurityInfos(b)
		if (err == nil) != (infos != nil) {
			t.Fatalf("result %v with error %v", infos, err)
		}
	})
}
