package icao_test

import (
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao"
)

func ExampleParseMRZ() {
	// The specimen MRZ of ICAO Doc 9303 Part 4.
	m, err := icao.ParseMRZ(`
P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<
L898902C36UTO7408122F1204159ZE184226B<<<<<10
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Format, m.DocumentCode, m.IssuingState, m.DocumentNumber)
	fmt.Println(m.PrimaryIdentifier + ", " + m.SecondaryIdentifier)
	fmt.Println(m.DateOfBirth, string(m.Sex), m.DateOfExpiry)
	fmt.Printf("%s\n", m.AccessKey().Information())
	// Output:
	// TD3 P< UTO L898902C3
	// ERIKSSON, ANNA MARIA
	// 740812 F 120415
	// L898902C3674081221204159
}

func ExampleParseMRZ_error() {
	// The document number's check digit is 7 instead of 6.
	_, err := icao.ParseMRZ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n" +
		"L898902C37UTO7408122F1204159ZE184226B<<<<<10")
	var e *icao.MRZError
	if errors.As(err, &e) {
		fmt.Println(e.Field)
	}
	fmt.Println(err)
	// Output:
	// document number
	// icao: MRZ document number: check digit does not match
}

func ExampleNewAccessKey() {
	// A person typed the fields in; 9303-11 Appendix D.2 long number.
	k, err := icao.NewAccessKey("d23145890734", "340712", "950712")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", k.Information())
	// Output:
	// D23145890734934071279507122
}

func ExampleCheckDigit() {
	cd, _ := icao.CheckDigit("520727")
	fmt.Println(string(cd))
	// Output: 3
}

func ExampleAccessKey_Format() {
	key, _ := icao.NewAccessKey("L898902C3", "740812", "120415")
	m, _ := icao.ParseMRZ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")
	fmt.Printf("%v %+v %v\n", key, m, *m)
	// Output: redacted redacted redacted
}
