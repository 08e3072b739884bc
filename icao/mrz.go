package icao

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
)

// Format is the layout of a machine readable zone (9303-3 §4.2).
type Format int

// MRZ layouts.
const (
	TD1 Format = iota + 1 // three lines of 30 characters, ID cards (9303-5)
	TD2                   // two lines of 36 characters (9303-6)
	TD3                   // two lines of 44 characters, passport books (9303-4)
)

// String returns "TD1", "TD2" or "TD3".
func (f Format) String() string {
	switch f {
	case TD1:
		return "TD1"
	case TD2:
		return "TD2"
	case TD3:
		return "TD3"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ErrMRZ is wrapped by every error about MRZ text, including every
// [*MRZError].
var ErrMRZ = errors.New("icao: invalid MRZ")

// MRZError names the MRZ field that failed to parse or verify and why. It
// never holds the field's value or any other part of the MRZ.
type MRZError struct {
	Field  MRZField // the field at fault; "" for the layout
	Reason string   // "check digit does not match", "not a valid date", …
}

// Error reads like "icao: MRZ document number: check digit does not match".
func (e *MRZError) Error() string {
	if e.Field == "" {
		return "icao: MRZ: " + e.Reason
	}
	return "icao: MRZ " + string(e.Field) + ": " + e.Reason
}

// MRZField names a field of the MRZ (9303-3 §4.2) in an [MRZError]; its
// text is the field's name in 9303.
type MRZField string

// The fields an [MRZError] names; a line of the layout is [MRZLine].
const (
	FieldDocumentNumber MRZField = "document number"
	FieldDateOfBirth    MRZField = "date of birth"
	FieldDateOfExpiry   MRZField = "date of expiry"
	FieldOptionalData   MRZField = "optional data"
	FieldComposite      MRZField = "composite"
	FieldSex            MRZField = "sex"
	FieldCheckDigit     MRZField = "check digit input"
)

// MRZLine names line n (from 1) of the MRZ, for errors about its
// characters.
func MRZLine(n int) MRZField { return MRZField("line " + strconv.Itoa(n)) }

// MarshalText is the field's name.
func (f MRZField) MarshalText() ([]byte, error) { return []byte(f), nil }

// Unwrap returns [ErrMRZ].
func (e *MRZError) Unwrap() error { return ErrMRZ }

// Reasons used in [MRZError].
const (
	reasonCheckDigit   = "check digit does not match"
	reasonNotDigit     = "check digit is not a digit"
	reasonDate         = "not a valid date"
	reasonEmpty        = "empty"
	reasonSex          = "must be M, F, X or <"
	reasonCharacter    = "invalid character (allowed: A-Z, 0-9 and <)"
	reasonLowercase    = "lowercase letter (MRZ text is uppercase)"
	reasonLayout       = "want 3 lines of 30 characters or 2 lines of 36 or 44"
	reasonLongNumber   = "extended document number has no check digit"
	reasonNumberLength = "longer than 22 characters"
)

// MRZ is a parsed machine readable zone. Dates are YYMMDD as printed.
//
// Because it holds personal data, MRZ has no String method and its
// LogValue prints "redacted".
type MRZ struct {
	Format       Format
	DocumentCode string // two characters as printed, e.g. "P<", "I<", "ID"
	IssuingState string // three characters as printed, fillers kept ("D<<")
	// DocumentNumber is the whole document number without trailing
	// fillers. For TD1 and TD2 numbers longer than nine characters it
	// includes the characters continued in the optional data field
	// (9303-5 §4.2.4, 9303-6 §4.2.4, 9303-11 Appendix D.2).
	DocumentNumber      string
	Nationality         string // three characters as printed
	DateOfBirth         string // YYMMDD
	Sex                 byte   // 'M', 'F', 'X' or '<'
	DateOfExpiry        string // YYMMDD
	PrimaryIdentifier   string // surname(s), '<' fillers turned into spaces
	SecondaryIdentifier string // given name(s), '<' fillers turned into spaces
	// OptionalData1 is the optional data field as printed, fillers kept:
	// the personal number of a TD3, the optional data of a TD2, or the
	// upper-line optional data of a TD1. For extended document numbers it
	// starts with the continued number and its check digit.
	OptionalData1 string
	// OptionalData2 is the middle-line optional data of a TD1, as printed;
	// empty for TD2 and TD3.
	OptionalData2 string
}

// LogValue keeps the MRZ out of logs, whether logged as a value or a
// pointer.
func (MRZ) LogValue() slog.Value { return slog.StringValue("redacted") }

// String keeps the MRZ out of fmt output too (%v, %+v, %s): the fields
// are there for code to read, never for printing.
func (MRZ) String() string { return "redacted" }

// GoString keeps the MRZ out of %#v output.
func (MRZ) GoString() string { return "redacted" }

// AccessKey returns the BAC/PACE key material of the MRZ.
func (m *MRZ) AccessKey() AccessKey {
	return AccessKey{number: m.DocumentNumber, birth: m.DateOfBirth, expiry: m.DateOfExpiry}
}

// maxMRZInput bounds the text ParseMRZ looks at.
const maxMRZInput = 1024

// ParseMRZ parses printed MRZ text and verifies every check digit, the
// composite check digit and the dates (9303-3 §4.9, 9303-4/5/6 §4.2).
//
// The lines are separated by newlines; "\r\n", spaces around lines and blank
// lines are tolerated. The concatenated form stored in DG1 (one line of 90,
// 72 or 88 characters) is accepted too. The layout follows from the line
// count and length. Lowercase letters are rejected: MRZ text is uppercase,
// and a lowercase letter means the text did not come from an MRZ reader.
//
// A TD3's optional data check digit may be '<' or '0' when the field is
// all fillers. Dates must be calendar days; 29 February is accepted when YY
// is a multiple of four, a leap year in one of the two possible centuries.
//
// Every error is an [*MRZError] that wraps [ErrMRZ]; when several fields
// are wrong, it describes the first one.
func ParseMRZ(text string) (*MRZ, error) {
	s, l, err := normalizeMRZ(text)
	if err != nil {
		return nil, err
	}
	m, problems := parseMRZFields(s, l)
	if len(problems) > 0 {
		return nil, problems[0]
	}
	return m, nil
}

// normalizeMRZ turns printed lines or the concatenated form into the
// concatenated form and picks its layout.
func normalizeMRZ(text string) (string, *layout, error) {
	if len(text) > maxMRZInput {
		return "", nil, &MRZError{Reason: reasonLayout}
	}
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.Trim(line, " \t\r"); line != "" {
			lines = append(lines, line)
		}
	}
	s := strings.Join(lines, "")
	l := layoutFor(len(lines), len(s))
	if l == nil {
		return "", nil, &MRZError{Reason: reasonLayout}
	}
	if len(lines) > 1 {
		for _, line := range lines {
			if len(line) != l.width {
				return "", nil, &MRZError{Reason: reasonLayout}
			}
		}
	}
	if err := checkMRZChars(s, l.width); err != nil {
		return "", nil, err
	}
	return s, l, nil
}

// checkMRZChars rejects anything but A-Z, 0-9 and '<', naming the line.
func checkMRZChars(s string, width int) error {
	for i := 0; i < len(s); i++ {
		if mrzValue(s[i]) >= 0 {
			continue
		}
		reason := reasonCharacter
		if s[i] >= 'a' && s[i] <= 'z' {
			reason = reasonLowercase
		}
		return &MRZError{Field: MRZLine(i/width + 1), Reason: reason}
	}
	return nil
}

// parseMRZFields reads the fields of a normalized MRZ and lists the fields
// whose check digit, date or content does not verify.
func parseMRZFields(s string, l *layout) (*MRZ, []*MRZError) {
	m := &MRZ{
		Format:        l.format,
		DocumentCode:  l.docCode.of(s),
		IssuingState:  l.state.of(s),
		Nationality:   l.nat.of(s),
		DateOfBirth:   l.dob.of(s),
		Sex:           s[l.sex],
		DateOfExpiry:  l.doe.of(s),
		OptionalData1: l.opt1.of(s),
		OptionalData2: l.opt2.of(s),
	}
	m.PrimaryIdentifier, m.SecondaryIdentifier = splitName(l.name.of(s))
	var p []*MRZError
	add := func(e *MRZError) {
		if e != nil {
			p = append(p, e)
		}
	}
	m.DocumentNumber, p = parseDocumentNumber(s, l, p)
	add(verifyDate(FieldDateOfBirth, m.DateOfBirth, s[l.dobCD]))
	if !strings.ContainsRune("MFX<", rune(m.Sex)) {
		add(&MRZError{Field: FieldSex, Reason: reasonSex})
	}
	add(verifyDate(FieldDateOfExpiry, m.DateOfExpiry, s[l.doeCD]))
	if l.opt1CD >= 0 {
		add(verifyOptionalCheckDigit(FieldOptionalData, m.OptionalData1, s[l.opt1CD]))
	}
	add(verifyCheckDigit(FieldComposite, l.compositeInput(s), s[l.compositeCD]))
	return m, p
}

// parseDocumentNumber reads the document number, following an extended
// number into the optional data when the check digit position holds '<'
// (TD1 and TD2 only).
func parseDocumentNumber(s string, l *layout, p []*MRZError) (string, []*MRZError) {
	head, cd := l.docNum.of(s), s[l.docNumCD]
	if cd == '<' && l.format != TD3 {
		opt := l.opt1.of(s)
		// The continued number ends with its check digit and a filler.
		i := strings.IndexByte(opt, '<')
		if i < 2 {
			return head, append(p, &MRZError{Field: FieldDocumentNumber, Reason: reasonLongNumber})
		}
		number := head + opt[:i-1]
		if e := verifyCheckDigit(FieldDocumentNumber, number, opt[i-1]); e != nil {
			p = append(p, e)
		}
		return number, p
	}
	number := strings.TrimRight(head, "<")
	if number == "" {
		p = append(p, &MRZError{Field: FieldDocumentNumber, Reason: reasonEmpty})
	}
	if e := verifyCheckDigit(FieldDocumentNumber, head, cd); e != nil {
		p = append(p, e)
	}
	return number, p
}

// splitName splits the name field at the first "<<" into the primary and
// secondary identifiers, turning the remaining fillers into spaces.
// Trailing fillers are dropped; everything else is kept so that the field
// can be rebuilt exactly.
func splitName(field string) (primary, secondary string) {
	field = strings.TrimRight(field, "<")
	if i := strings.Index(field, "<<"); i >= 0 {
		primary, secondary = field[:i], field[i+2:]
	} else {
		primary = field
	}
	return strings.ReplaceAll(primary, "<", " "), strings.ReplaceAll(secondary, "<", " ")
}

// verifyOptionalCheckDigit is verifyCheckDigit for a field whose check
// digit may be '<' when the field is all fillers (9303-4 §4.2.2.2, the
// optional data of a TD3).
func verifyOptionalCheckDigit(field MRZField, value string, cd byte) *MRZError {
	if cd == '<' && strings.Trim(value, "<") == "" {
		return nil
	}
	return verifyCheckDigit(field, value, cd)
}

// verifyCheckDigit checks the check digit cd of value.
func verifyCheckDigit(field MRZField, value string, cd byte) *MRZError {
	if cd < '0' || cd > '9' {
		return &MRZError{Field: field, Reason: reasonNotDigit}
	}
	if checkDigit(value) != cd {
		return &MRZError{Field: field, Reason: reasonCheckDigit}
	}
	return nil
}

// verifyDate checks a YYMMDD date and its check digit.
func verifyDate(field MRZField, date string, cd byte) *MRZError {
	if !validDate(date) {
		return &MRZError{Field: field, Reason: reasonDate}
	}
	return verifyCheckDigit(field, date, cd)
}

// validDate reports whether s is a YYMMDD calendar date. The century is
// unknown, so 29 February is accepted whenever YY is a multiple of four.
func validDate(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	yy := int(s[0]-'0')*10 + int(s[1]-'0')
	mm := int(s[2]-'0')*10 + int(s[3]-'0')
	dd := int(s[4]-'0')*10 + int(s[5]-'0')
	days := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}
	if yy%4 == 0 {
		days[2] = 29
	}
	return mm >= 1 && mm <= 12 && dd >= 1 && dd <= days[mm]
}

// CheckDigit computes the check digit of s (9303-3 §4.9): characters are
// valued 0–9 for digits, 10–35 for A–Z and 0 for the filler '<', weighted
// 7, 3, 1 repeating, summed modulo 10. It returns the ASCII digit. An
// error, an [*MRZError] wrapping [ErrMRZ], reports a character outside
// A–Z, 0–9 and '<'.
func CheckDigit(s string) (byte, error) {
	for i := 0; i < len(s); i++ {
		if mrzValue(s[i]) < 0 {
			return 0, &MRZError{Field: FieldCheckDigit, Reason: reasonCharacter}
		}
	}
	return checkDigit(s), nil
}

// checkDigit is CheckDigit for text already known to be MRZ characters.
func checkDigit(s string) byte {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += max(mrzValue(s[i]), 0) * weights[i%3]
	}
	return byte('0' + sum%10)
}

// mrzValue returns the check digit value of an MRZ character, or -1.
func mrzValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c == '<':
		return 0
	}
	return -1
}
