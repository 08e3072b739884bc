package icao

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"io"
)

// Tags of DG1 (9303-10 §4.7.1).
const (
	tagDG1 tlv.Tag = 0x61
	tagMRZ tlv.Tag = 0x5F1F
)

// DG1 is data group 1, the MRZ as stored on the chip (9303-10 §4.7.1).
//
// Because it holds personal data, DG1 has no String method and its
// LogValue prints "redacted".
type DG1 struct {
	MRZ *MRZ
	// Invalid lists the fields whose check digit, date or content does not
	// verify; see [ParseDG1]. Empty for a correct MRZ.
	Invalid []*MRZError
	Raw     []byte // the whole file
}

// ParseDG1 parses DG1. The structure must be right: tag 61 holding one
// 5F1F with a concatenated MRZ of 90, 72 or 88 MRZ characters; otherwise
// the error wraps [ErrMalformedLDS] and [ErrMRZ].
//
// Check digits, dates and the sex field are verified too, but a failure
// there does not fail the parse: chips with a wrong check digit in DG1 are
// in circulation, and the file's integrity is what EF.SOD vouches for. Such
// failures are listed in [DG1.Invalid] and reported by [DG1.Err].
func ParseDG1(b []byte) (*DG1, error) {
	const file = "DG1"
	raw, value, err := openFile(b, tagDG1, file)
	if err != nil {
		return nil, err
	}
	o, err := tlv.Decode(value)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	if o.Tag != tagMRZ {
		return nil, malformed(file, "tag "+o.Tag.String()+" where 5F1F was expected")
	}
	l := layoutFor(1, len(o.Value))
	if l == nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformedLDS, file, &MRZError{Reason: reasonLayout})
	}
	s := string(o.Value)
	if err := checkMRZChars(s, l.width); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrMalformedLDS, file, err)
	}
	m, problems := parseMRZFields(s, l)
	return &DG1{MRZ: m, Invalid: problems, Raw: raw}, nil
}

// Err returns nil when every check digit and date of the MRZ verifies, and
// otherwise an error that wraps [ErrMRZ] and every [*MRZError] in
// [DG1.Invalid].
func (d *DG1) Err() error {
	errs := make([]error, len(d.Invalid))
	for i, e := range d.Invalid {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// LogValue keeps DG1 out of logs, whether logged as a value or a
// pointer.
func (DG1) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format keeps it out of fmt output too, %v and %+v included.
func (DG1) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// EncodeDG1 builds DG1 from MRZ text: the lines concatenated, or separated
// by newlines, which are removed. It does not check the text; use
// [ParseMRZ] for that.
func EncodeDG1(mrz string) []byte {
	mrz = strings.NewReplacer("\r", "", "\n", "").Replace(mrz)
	return tlv.Encode(tagDG1, tlv.Encode(tagMRZ, []byte(mrz)))
}
