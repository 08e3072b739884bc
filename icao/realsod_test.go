package icao_test

// EF.SOD of real documents (testdata/realdata, see its README for the
// sources) parse, including CN's, which declares its content as id-data.

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
)

func TestRealSODsParse(t *testing.T) {
	for _, st := range []string{"AT", "CN", "DE", "FI", "FR", "GB", "MY", "NZ", "PH", "RU", "SG", "US"} {
		b, err := os.ReadFile("../testdata/realdata/" + st + "/EF.SOD.bin")
		require.NoError(t, err)
		s, err := icao.ParseSOD(b)
		if !assert.NoError(t, err, st) {
			continue
		}
		assert.NotEmpty(t, s.Hashes, "%s: no data group hashes", st)
	}
}

func TestEFText(t *testing.T) {
	for _, f := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG16, icao.EFCardAccess, icao.EFCardSecurity, icao.EFATRInfo} {
		b, err := f.MarshalText()
		require.NoError(t, err)
		var back icao.EF
		if assert.NoError(t, back.UnmarshalText(b), "%s", b) {
			assert.Equal(t, f, back, "%s", b)
		}
	}
	for _, bad := range []string{"", "DG0", "DG17", "DG01", "EF.XYZ", "DG1x"} {
		var f icao.EF
		err := f.UnmarshalText([]byte(bad))
		assert.Error(t, err, "%q parsed as %v", bad, f)
	}
}
