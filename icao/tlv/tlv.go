// Package tlv decodes and encodes BER-TLV data objects as used by ICAO 9303
// (9303-10 §4.5, ISO/IEC 7816-4 §5.2, ITU-T X.690 §8.1).
//
// Decoding never panics and never allocates on behalf of the input: values
// are sub-slices of the input, lengths are checked against the bytes that
// are there, tags are at most [MaxTagLen] bytes, lengths at most four bytes,
// and indefinite lengths are followed at most [MaxDepth] levels deep.
package tlv

import (
	"errors"
	"fmt"
)

// Limits on decoded structures.
const (
	MaxTagLen = 4  // bytes of a tag, first byte included
	MaxDepth  = 32 // nesting of indefinite-length objects
)

// ErrMalformed is wrapped by every decoding error.
var ErrMalformed = errors.New("tlv: malformed")

// Tag is a BER tag as it appears on the wire, packed big-endian: 0x5F1F,
// 0x7F61, 0x02.
type Tag uint32

// Constructed reports whether the tag's first byte has the constructed bit.
func (t Tag) Constructed() bool {
	for t > 0xFF {
		t >>= 8
	}
	return t&0x20 != 0
}

// String formats the tag as hex, the way specifications write it.
func (t Tag) String() string { return fmt.Sprintf("%02X", uint32(t)) }

// Header is the tag and length of a data object.
type Header struct {
	Tag Tag
	// Len is the value length; it is -1 when Indefinite.
	Len int
	// Size is the number of header bytes (tag and length).
	Size       int
	Indefinite bool
}

// ParseHeader decodes the tag and length at the start of b. It needs only
// the header bytes, which is what a reader uses to learn a file's size from
// its first few bytes.
func ParseHeader(b []byte) (Header, error) {
	tag, n, err := parseTag(b)
	if err != nil {
		return Header{}, err
	}
	if n >= len(b) {
		return Header{}, fmt.Errorf("%w: missing length after tag %v", ErrMalformed, tag)
	}
	l := b[n]
	n++
	switch {
	case l < 0x80:
		return Header{Tag: tag, Len: int(l), Size: n}, nil
	case l == 0x80:
		if !tag.Constructed() {
			return Header{}, fmt.Errorf("%w: indefinite length on primitive tag %v", ErrMalformed, tag)
		}
		return Header{Tag: tag, Len: -1, Size: n, Indefinite: true}, nil
	}
	k := int(l & 0x7F)
	if k > 4 {
		return Header{}, fmt.Errorf("%w: %d length bytes", ErrMalformed, k)
	}
	if n+k > len(b) {
		return Header{}, fmt.Errorf("%w: truncated length of tag %v", ErrMalformed, tag)
	}
	var v uint64
	for _, c := range b[n : n+k] {
		v = v<<8 | uint64(c)
	}
	if v > 1<<31-1 {
		return Header{}, fmt.Errorf("%w: length %d too large", ErrMalformed, v)
	}
	return Header{Tag: tag, Len: int(v), Size: n + k}, nil
}

func parseTag(b []byte) (Tag, int, error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	t := Tag(b[0])
	if b[0]&0x1F != 0x1F {
		return t, 1, nil
	}
	for i := 1; i < len(b); i++ {
		if i >= MaxTagLen {
			return 0, 0, fmt.Errorf("%w: tag longer than %d bytes", ErrMalformed, MaxTagLen)
		}
		t = t<<8 | Tag(b[i])
		if b[i]&0x80 == 0 {
			return t, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("%w: truncated tag", ErrMalformed)
}

// Object is one decoded data object. Value and Raw alias the input.
type Object struct {
	Tag   Tag
	Value []byte
	// Raw is the whole encoding: header, value and, for an indefinite
	// length, the end-of-contents octets.
	Raw []byte
}

// Next decodes the data object at the start of b and returns it with the
// bytes that follow it.
func Next(b []byte) (Object, []byte, error) {
	return next(b, 0)
}

func next(b []byte, depth int) (Object, []byte, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return Object{}, nil, err
	}
	if !h.Indefinite {
		end := h.Size + h.Len
		if h.Len > len(b)-h.Size {
			return Object{}, nil, fmt.Errorf("%w: tag %v declares %d bytes, %d present", ErrMalformed, h.Tag, h.Len, len(b)-h.Size)
		}
		return Object{Tag: h.Tag, Value: b[h.Size:end], Raw: b[:end]}, b[end:], nil
	}
	if depth >= MaxDepth {
		return Object{}, nil, fmt.Errorf("%w: indefinite lengths nested deeper than %d", ErrMalformed, MaxDepth)
	}
	rest := b[h.Size:]
	for {
		if len(rest) >= 2 && rest[0] == 0 && rest[1] == 0 {
			valueEnd := len(b) - len(rest)
			return Object{Tag: h.Tag, Value: b[h.Size:valueEnd], Raw: b[:valueEnd+2]}, rest[2:], nil
		}
		if len(rest) == 0 {
			return Object{}, nil, fmt.Errorf("%w: tag %v has no end-of-contents", ErrMalformed, h.Tag)
		}
		_, r, err := next(rest, depth+1)
		if err != nil {
			return Object{}, nil, err
		}
		rest = r
	}
}

// Decode decodes exactly one data object that must fill b.
func Decode(b []byte) (Object, error) {
	o, rest, err := Next(b)
	if err != nil {
		return Object{}, err
	}
	if len(rest) != 0 {
		return Object{}, fmt.Errorf("%w: %d bytes after tag %v", ErrMalformed, len(rest), o.Tag)
	}
	return o, nil
}

// DecodeExpect decodes exactly one data object with the given tag.
func DecodeExpect(b []byte, tag Tag) (Object, error) {
	o, err := Decode(b)
	if err != nil {
		return Object{}, err
	}
	if o.Tag != tag {
		return Object{}, fmt.Errorf("%w: tag %v where %v was expected", ErrMalformed, o.Tag, tag)
	}
	return o, nil
}

// Children decodes the concatenated data objects in a constructed value.
// It returns at most max objects and fails if there are more, so that a
// hostile input cannot make it build an unbounded slice.
func Children(value []byte, max int) ([]Object, error) {
	var out []Object
	for len(value) > 0 {
		if len(out) == max {
			return nil, fmt.Errorf("%w: more than %d objects", ErrMalformed, max)
		}
		o, rest, err := Next(value)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
		value = rest
	}
	return out, nil
}

// Find returns the first data object with the given tag among the
// concatenated objects in value, and whether one was found. It stops at the
// first malformed object.
func Find(value []byte, tag Tag) (Object, bool, error) {
	for len(value) > 0 {
		o, rest, err := Next(value)
		if err != nil {
			return Object{}, false, err
		}
		if o.Tag == tag {
			return o, true, nil
		}
		value = rest
	}
	return Object{}, false, nil
}

// AppendTag appends the tag's bytes to dst.
func AppendTag(dst []byte, t Tag) []byte {
	switch {
	case t > 0xFFFFFF:
		return append(dst, byte(t>>24), byte(t>>16), byte(t>>8), byte(t))
	case t > 0xFFFF:
		return append(dst, byte(t>>16), byte(t>>8), byte(t))
	case t > 0xFF:
		return append(dst, byte(t>>8), byte(t))
	}
	return append(dst, byte(t))
}

// AppendLength appends the definite-length encoding of n (DER: shortest
// form) to dst.
func AppendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xFF:
		return append(dst, 0x81, byte(n))
	case n <= 0xFFFF:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xFFFFFF:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// LengthSize is the number of bytes [AppendLength] writes for n.
func LengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xFF:
		return 2
	case n <= 0xFFFF:
		return 3
	case n <= 0xFFFFFF:
		return 4
	}
	return 5
}

// FitValue is the largest value length l for which a data object with a
// one-byte tag (tag, length, l value bytes) takes at most n bytes; 0 when
// not even an empty one fits.
func FitValue(n int) int {
	l := max(n-2, 0)
	for l > 0 && 1+LengthSize(l)+l > n {
		l--
	}
	return l
}

// Append appends the data object tag, length, value to dst.
func Append(dst []byte, t Tag, value []byte) []byte {
	dst = AppendTag(dst, t)
	dst = AppendLength(dst, len(value))
	return append(dst, value...)
}

// Encode returns the encoding of one data object.
func Encode(t Tag, value []byte) []byte {
	return Append(make([]byte, 0, len(value)+8), t, value)
}
