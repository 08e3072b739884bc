package icao_test

// EF.SOD of real documents (testdata/realdata, see its README for the
// sources) parse, including CN's, which declares its content as id-data.

import (
	"os"
	"testing"

	"github.com/nfcbridge/nfcbridge/icao"
)

func TestRealSODsParse(t *testing.T) {
	for _, st := range []string{"AT", "CN", "DE", "FI", "FR", "GB", "MY", "NZ", "PH", "RU", "SG", "US"} {
		b, err := os.ReadFile("../testdata/realdata/" + st + "/EF.SOD.bin")
		if err != nil {
			t.Fatal(err)
		}
		s, err := icao.ParseSOD(b)
		if err != nil {
			t.Errorf("%s: %v", st, err)
			continue
		}
		if len(s.Hashes) == 0 {
			t.Errorf("%s: no data group hashes", st)
		}
	}
}

func TestEFText(t *testing.T) {
	for _, f := range []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG16, icao.EFCardAccess, icao.EFCardSecurity, icao.EFATRInfo} {
		b, err := f.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back icao.EF
		if err := back.UnmarshalText(b); err != nil || back != f {
			t.Errorf("%s: %v, %v", b, back, err)
		}
	}
	for _, bad := range []string{"", "DG0", "DG17", "DG01", "EF.XYZ", "DG1x"} {
		var f icao.EF
		if err := f.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("%q parsed as %v", bad, f)
		}
	}
}
