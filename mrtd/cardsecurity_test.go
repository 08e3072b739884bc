package mrtd

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/vchip"
)

func cardSecuritySpecimen(t testing.TB) []byte {
	t.Helper()
	infos, err := vchip.ParsePACEInfos("ECDH-GM-AES-128/brainpoolP256r1")
	require.NoError(t, err)
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: 5000, PACE: infos,
		ChipAuth: &vchip.ChipAuthSpec{ParameterID: 12, KeyID: 3, Ciphers: []chipauth.Cipher{chipauth.AES256}}})
	require.NoError(t, err)
	return ds.Files[vchip.NameCardSecurity]
}

func TestCardSecurityInfos(t *testing.T) {
	cs := cardSecuritySpecimen(t)
	infos, err := cardSecurityInfos(cs)
	require.NoError(t, err)
	key, err := chipauth.Choose(infos)
	assert.NoError(t, err)
	assert.Equal(t, "CA-ECDH-AES-CBC-CMAC-256 keyId=3 P-256", key.String())
	assert.Len(t, infos.PACE, 1, "PACEInfos")
	for _, bad := range [][]byte{nil, cs[:len(cs)/2], append([]byte{0x31}, cs[1:]...)} {
		got, err := cardSecurityInfos(bad)
		assert.Error(t, err, "%d bytes", len(bad))
		assert.Nil(t, got, "%d bytes", len(bad))
	}
}

// FuzzCardSecurityInfos checks the EF.CardSecurity parser on chip bytes:
// no panic, and a nil result exactly when there is an error.
func FuzzCardSecurityInfos(f *testing.F) {
	f.Add(cardSecuritySpecimen(f))
	f.Fuzz(func(t *testing.T, b []byte) {
		infos, err := cardSecurityInfos(b)
		if err != nil {
			require.Nil(t, infos, "result with error %v", err)
		} else {
			require.NotNil(t, infos, "no result and no error")
		}
	})
}
