package icao

import "strings"

// span is a half-open range of positions in the concatenated MRZ.
type span struct{ from, to int }

func (p span) of(s string) string { return s[p.from:p.to] }

// layout gives the field positions of one MRZ format in the concatenated
// MRZ (all lines joined), 0-based.
type layout struct {
	format       Format
	lines, width int
	docCode      span
	state        span
	name         span
	docNum       span
	docNumCD     int
	nat          span
	dob          span
	dobCD        int
	sex          int
	doe          span
	doeCD        int
	opt1         span
	opt1CD       int // -1: no check digit for the optional data
	opt2         span
	composite    []span
	compositeCD  int
}

func (l *layout) compositeInput(s string) string {
	var b strings.Builder
	for _, p := range l.composite {
		b.WriteString(p.of(s))
	}
	return b.String()
}

// Field positions, 9303-4 §4.2.2 (TD3), 9303-5 §4.2.2 (TD1) and
// 9303-6 §4.2.2 (TD2).
var (
	layoutTD1 = layout{
		format: TD1, lines: 3, width: 30,
		docCode: span{0, 2}, state: span{2, 5}, docNum: span{5, 14}, docNumCD: 14, opt1: span{15, 30}, opt1CD: -1,
		dob: span{30, 36}, dobCD: 36, sex: 37, doe: span{38, 44}, doeCD: 44, nat: span{45, 48}, opt2: span{48, 59},
		compositeCD: 59, composite: []span{{5, 30}, {30, 37}, {38, 45}, {48, 59}},
		name: span{60, 90},
	}
	layoutTD2 = layout{
		format: TD2, lines: 2, width: 36,
		docCode: span{0, 2}, state: span{2, 5}, name: span{5, 36},
		docNum: span{36, 45}, docNumCD: 45, nat: span{46, 49}, dob: span{49, 55}, dobCD: 55, sex: 56,
		doe: span{57, 63}, doeCD: 63, opt1: span{64, 71}, opt1CD: -1,
		compositeCD: 71, composite: []span{{36, 46}, {49, 56}, {57, 71}},
	}
	layoutTD3 = layout{
		format: TD3, lines: 2, width: 44,
		docCode: span{0, 2}, state: span{2, 5}, name: span{5, 44},
		docNum: span{44, 53}, docNumCD: 53, nat: span{54, 57}, dob: span{57, 63}, dobCD: 63, sex: 64,
		doe: span{65, 71}, doeCD: 71, opt1: span{72, 86}, opt1CD: 86,
		compositeCD: 87, composite: []span{{44, 54}, {57, 64}, {65, 87}},
	}
)

// layoutFor picks the layout from the number of lines and the total
// length; a single line is the concatenated form of DG1.
func layoutFor(lines, total int) *layout {
	for _, l := range []*layout{&layoutTD1, &layoutTD2, &layoutTD3} {
		if total == l.lines*l.width && (lines == 1 || lines == l.lines) {
			return l
		}
	}
	return nil
}

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
