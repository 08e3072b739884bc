package icao

// MRZ.text prints an MRZ back as its lines: a test helper (round trips and
// fuzzing of ParseMRZ), not used by the reader.

import "strings"

// text formats m as the concatenated MRZ, computing every check digit. The
// optional data fields are written as they are, so an extended document
// number must already be in OptionalData1. A TD3's optional data check
// digit is '<' when the field is all fillers. text is the inverse of
// ParseMRZ for every MRZ that ParseMRZ accepts, but for that check digit,
// which may also be printed as '0'.
func (m *MRZ) text() (string, bool) {
	l := layoutFor(1, formatLength(m.Format))
	if l == nil {
		return "", false
	}
	b := []byte(strings.Repeat("<", l.lines*l.width))
	ok := put(b, l.docCode, m.DocumentCode) && put(b, l.state, m.IssuingState) &&
		put(b, l.nat, m.Nationality) && put(b, l.dob, m.DateOfBirth) && put(b, l.doe, m.DateOfExpiry) &&
		put(b, l.opt1, m.OptionalData1) && put(b, l.opt2, m.OptionalData2) && putName(b, l.name, m)
	if !ok || checkMRZChars(string(b), l.width) != nil {
		return "", false
	}
	b[l.sex] = m.Sex
	if len(m.DocumentNumber) > 9 && l.format != TD3 {
		ok = put(b, l.docNum, m.DocumentNumber[:9])
	} else {
		ok = put(b, l.docNum, m.DocumentNumber)
		b[l.docNumCD] = checkDigit(l.docNum.of(string(b)))
	}
	if !ok {
		return "", false
	}
	b[l.dobCD] = checkDigit(m.DateOfBirth)
	b[l.doeCD] = checkDigit(m.DateOfExpiry)
	if l.opt1CD >= 0 && strings.Trim(m.OptionalData1, "<") != "" {
		b[l.opt1CD] = checkDigit(m.OptionalData1)
	}
	b[l.compositeCD] = checkDigit(l.compositeInput(string(b)))
	return string(b), checkMRZChars(string(b), l.width) == nil
}

func formatLength(f Format) int {
	switch f {
	case TD1:
		return 90
	case TD2:
		return 72
	case TD3:
		return 88
	}
	return 0
}

// put writes v into the span, left-aligned; it fails if v is too long.
func put(b []byte, p span, v string) bool {
	if len(v) > p.to-p.from {
		return false
	}
	copy(b[p.from:], v)
	return true
}

func putName(b []byte, p span, m *MRZ) bool {
	name := strings.ReplaceAll(m.PrimaryIdentifier, " ", "<")
	if m.SecondaryIdentifier != "" {
		name += "<<" + strings.ReplaceAll(m.SecondaryIdentifier, " ", "<")
	}
	return put(b, p, name)
}
