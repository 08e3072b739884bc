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
