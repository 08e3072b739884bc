package icao

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// ErrMalformedLDS is wrapped by every error about the structure of an LDS
// file: EF.COM, EF.SOD or a data group. Errors that come from the BER-TLV
// decoder wrap [tlv.ErrMalformed] as well.
var ErrMalformedLDS = errors.New("icao: malformed LDS file")

// ErrEncode is wrapped by the errors of the LDS file encoders.
var ErrEncode = errors.New("icao: cannot encode LDS file")

// malformed returns an error about file that wraps ErrMalformedLDS. The
// reason names the structure, never the file's content.
func malformed(file, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedLDS, file, reason)
}

// malformedTLV wraps a tlv decoding error with ErrMalformedLDS.
func malformedTLV(file string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrMalformedLDS, file, err)
}

// openFile decodes the outer data object of an LDS file, which must have
// the given tag and fill b exactly. It returns a copy of b, so that the
// parsed structure never aliases the caller's buffer, and the value inside
// that copy.
func openFile(b []byte, tag tlv.Tag, file string) (raw, value []byte, err error) {
	raw = bytes.Clone(b)
	o, err := tlv.Decode(raw)
	if err != nil {
		return nil, nil, malformedTLV(file, err)
	}
	if o.Tag != tag {
		return nil, nil, malformed(file, "tag "+o.Tag.String()+" where "+tag.String()+" was expected")
	}
	return raw, o.Value, nil
}

// printable reports whether b is non-empty printable ASCII.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return len(b) > 0
}
