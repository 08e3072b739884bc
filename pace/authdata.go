package pace

import (
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Tags of the dynamic authentication data object of GENERAL AUTHENTICATE
// (9303-11 §4.4.4.2, §4.4.5, table 4).
const (
	tagDynamicAuth tlv.Tag = 0x7C
	tagNonce       tlv.Tag = 0x80 // encrypted nonce z
	tagMapIFD      tlv.Tag = 0x81 // terminal's mapping data
	tagMapIC       tlv.Tag = 0x82 // chip's mapping data
	tagKeyIFD      tlv.Tag = 0x83 // terminal's ephemeral public key
	tagKeyIC       tlv.Tag = 0x84 // chip's ephemeral public key
	tagTokenIFD    tlv.Tag = 0x85 // T_IFD
	tagTokenIC     tlv.Tag = 0x86 // T_IC
	tagCAR1        tlv.Tag = 0x87 // most recent Certification Authority Reference
	tagCAR2        tlv.Tag = 0x88 // previous Certification Authority Reference
	tagCAData      tlv.Tag = 0x8A // encrypted chip authentication data A_IC
)

// authData is a decoded dynamic authentication data object: the value of
// each context-specific tag 80–8A that is present. Other context-specific
// primitive tags are skipped (9303-11 §4.4.4.1 note 2 asks chips to ignore
// unknown tags; a terminal does the same).
type authData struct {
	objs    [11][]byte
	present uint16
}

// get returns the value of tag and whether it was present.
func (a *authData) get(tag tlv.Tag) ([]byte, bool) {
	i := int(tag) - 0x80
	if i < 0 || i >= len(a.objs) || a.present&(1<<i) == 0 {
		return nil, false
	}
	return a.objs[i], true
}

// set records a value; it reports false for a tag outside 80–8A.
func (a *authData) set(tag tlv.Tag, v []byte) bool {
	i := int(tag) - 0x80
	if i < 0 || i >= len(a.objs) {
		return false
	}
	a.objs[i] = v
	a.present |= 1 << i
	return true
}

// parseAuthData decodes exactly one 7C object filling b. Each child must be
// a primitive context-specific tag (80–9E) and appear at most once.
func parseAuthData(b []byte) (authData, error) {
	var a authData
	o, err := tlv.DecodeExpect(b, tagDynamicAuth)
	if err != nil {
		return authData{}, fmt.Errorf("%w: dynamic authentication data: %w", ErrMalformed, err)
	}
	children, err := tlv.Children(o.Value, 16)
	if err != nil {
		return authData{}, fmt.Errorf("%w: dynamic authentication data: %w", ErrMalformed, err)
	}
	var seen uint32
	for _, c := range children {
		if c.Tag < 0x80 || c.Tag > 0x9E {
			return authData{}, fmt.Errorf("%w: tag %v in dynamic authentication data", ErrMalformed, c.Tag)
		}
		if seen&(1<<(c.Tag-0x80)) != 0 {
			return authData{}, fmt.Errorf("%w: tag %v twice in dynamic authentication data", ErrMalformed, c.Tag)
		}
		seen |= 1 << (c.Tag - 0x80)
		a.set(c.Tag, c.Value)
	}
	return a, nil
}

// require returns the value of a mandatory tag.
func (a *authData) require(tag tlv.Tag) ([]byte, error) {
	v, ok := a.get(tag)
	if !ok {
		return nil, fmt.Errorf("%w: no tag %v in dynamic authentication data", ErrMalformed, tag)
	}
	return v, nil
}

// encode returns 7C with the present objects in tag order (the order
// 9303-11 table 4 lists them in).
func (a *authData) encode() []byte {
	var body []byte
	for i := range a.objs {
		if a.present&(1<<i) != 0 {
			body = tlv.Append(body, tlv.Tag(0x80+i), a.objs[i])
		}
	}
	return tlv.Encode(tagDynamicAuth, body)
}

// authObject returns 7C holding one data object, or the empty 7C 00 for a
// nil value and tag 0.
func authObject(tag tlv.Tag, value []byte) []byte {
	var a authData
	if tag != 0 {
		a.set(tag, value)
	}
	return a.encode()
}
