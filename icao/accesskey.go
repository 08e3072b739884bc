package icao

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// maxDocumentNumber is the longest document number an MRZ can carry: nine
// characters plus thirteen continued in a TD1's optional data, which also
// holds the check digit and a filler (9303-5 §4.2.4).
const maxDocumentNumber = 22

// AccessKey is the MRZ-derived secret used by BAC and PACE: the document
// number, the date of birth and the date of expiry (9303-11 §4.3.2, §9.7.2).
// Derive keys from [AccessKey.Information].
//
// AccessKey has no String method and its LogValue prints "redacted".
type AccessKey struct {
	number, birth, expiry string
}

// NewAccessKey validates the three MRZ fields a person types in or an
// OCR engine returns. Letters are uppercased and surrounding spaces and
// trailing fillers of the document number are removed. The document number
// may have 1–22 characters of A–Z, 0–9 and '<'; the dates are YYMMDD
// calendar days. Errors are [*MRZError] values naming the field.
func NewAccessKey(documentNumber, dateOfBirth, dateOfExpiry string) (AccessKey, error) {
	number := strings.TrimRight(upperASCII(documentNumber), "<")
	switch {
	case number == "":
		return AccessKey{}, &MRZError{Field: FieldDocumentNumber, Reason: reasonEmpty}
	case len(number) > maxDocumentNumber:
		return AccessKey{}, &MRZError{Field: FieldDocumentNumber, Reason: reasonNumberLength}
	}
	if _, err := CheckDigit(number); err != nil {
		return AccessKey{}, &MRZError{Field: FieldDocumentNumber, Reason: reasonCharacter}
	}
	k := AccessKey{number: number, birth: upperASCII(dateOfBirth), expiry: upperASCII(dateOfExpiry)}
	if !validDate(k.birth) {
		return AccessKey{}, &MRZError{Field: FieldDateOfBirth, Reason: reasonDate}
	}
	if !validDate(k.expiry) {
		return AccessKey{}, &MRZError{Field: FieldDateOfExpiry, Reason: reasonDate}
	}
	return k, nil
}

// upperASCII trims spaces and uppercases ASCII letters only, so that no
// Unicode case mapping can turn a character into an MRZ character.
func upperASCII(s string) string {
	b := []byte(strings.TrimSpace(s))
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Information returns MRZ_information, the input of the BAC key seed and
// the PACE MRZ password (9303-11 §4.3.2, Appendix D.2): the document number
// padded with '<' to nine characters, or the whole number when it is
// longer, then its check digit, the date of birth and its check digit, the
// date of expiry and its check digit. The caller should clear the result
// when done with it.
func (k AccessKey) Information() []byte {
	number := k.number
	if n := len(number); n < 9 {
		number += strings.Repeat("<", 9-n)
	}
	b := make([]byte, 0, len(number)+15)
	for _, f := range [...]string{number, k.birth, k.expiry} {
		b = append(b, f...)
		b = append(b, checkDigit(f))
	}
	return b
}

// LogValue keeps the key out of logs.
func (k AccessKey) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format keeps it out of fmt output too, %v and %+v included.
func (AccessKey) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }
