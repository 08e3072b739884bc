package pki_test

import (
	"fmt"
	"os"
	"time"

	"github.com/nfcbridge/nfcbridge/pki"
)

func ExampleCountryAlpha2() {
	for _, mrz := range []string{"D<<", "nzl", "GBD", "XXA"} {
		code, ok := pki.CountryAlpha2(mrz)
		fmt.Printf("%s %q %v\n", mrz, code, ok)
	}
	// Output:
	// D<< "DE" true
	// nzl "NZ" true
	// GBD "GB" true
	// XXA "" false
}

func ExampleVerifySOD() {
	var store pki.Store
	if _, err := store.LoadPath("../testdata/realdata/NZ/CSCA.der"); err != nil {
		fmt.Println(err)
		return
	}
	sod, err := os.ReadFile("../testdata/realdata/NZ/EF.SOD.bin")
	if err != nil {
		fmt.Println(err)
		return
	}
	v := pki.VerifySOD(sod, &store, pki.VerifyOptions{
		Now:          func() time.Time { return time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC) },
		IssuingState: "NZL",
	})
	fmt.Println(v.Status, v.ValidityTimeSource, v.CSCA.Subject.Country(), len(v.Hashes))
	// Output: valid signing_time NZ 6
}
