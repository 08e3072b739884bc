package icao

import (
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Tags of EF.COM (9303-10 §4.6.1).
const (
	tagCOM            tlv.Tag = 0x60
	tagLDSVersion     tlv.Tag = 0x5F01
	tagUnicodeVersion tlv.Tag = 0x5F36
	tagTagList        tlv.Tag = 0x5C
)

// maxCOMTags bounds the tag list of EF.COM; LDS1 has 16 data groups.
const maxCOMTags = 64

// COM is EF.COM, the LDS version and the list of data groups present
// (9303-10 §4.6.1).
type COM struct {
	// LDSVersion is "aabb" for LDS version aa.bb, e.g. "0107". Empty when
	// the chip omits it.
	LDSVersion string
	// UnicodeVersion is "aabbcc" for Unicode aa.bb.cc, e.g. "040000".
	// Empty when the chip omits it.
	UnicodeVersion string
	// Tags lists the data group tags in the order of the file, e.g. 0x61
	// for DG1 and 0x75 for DG2.
	Tags []tlv.Tag
	Raw  []byte // the whole file
}

// dgTags maps data group numbers to their tags (9303-10 Table 34).
var dgTags = [17]tlv.Tag{0, 0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70}

// DataGroups returns the numbers of the data groups listed in the tag
// list, in its order, skipping tags that name no data group.
func (c *COM) DataGroups() []int {
	var dgs []int
	for _, t := range c.Tags {
		for n := 1; n < len(dgTags); n++ {
			if dgTags[n] == t {
				dgs = append(dgs, n)
			}
		}
	}
	return dgs
}

// ParseCOM parses EF.COM. The tag list (5C) is required; the version
// objects are optional because nothing depends on them, and unknown data
// objects are skipped. Errors wrap [ErrMalformedLDS].
func ParseCOM(b []byte) (*COM, error) {
	const file = "EF.COM"
	raw, value, err := openFile(b, tagCOM, file)
	if err != nil {
		return nil, err
	}
	objs, err := tlv.Children(value, 16)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	c := &COM{Raw: raw}
	seen := map[tlv.Tag]bool{}
	for _, o := range objs {
		if seen[o.Tag] {
			return nil, malformed(file, "repeated tag "+o.Tag.String())
		}
		seen[o.Tag] = true
		switch o.Tag {
		case tagLDSVersion, tagUnicodeVersion:
			if !printable(o.Value) {
				return nil, malformed(file, "version "+o.Tag.String()+" is not printable")
			}
			if o.Tag == tagLDSVersion {
				c.LDSVersion = string(o.Value)
			} else {
				c.UnicodeVersion = string(o.Value)
			}
		case tagTagList:
			if c.Tags, err = parseTagList(o.Value); err != nil {
				return nil, malformedTLV(file, err)
			}
		}
	}
	if !seen[tagTagList] {
		return nil, malformed(file, "no tag list (5C)")
	}
	return c, nil
}

// parseTagList splits the value of 5C into tags (ISO/IEC 7816-4 §5.2:
// a first byte with the low five bits set is followed by bytes with the
// high bit set, then one without).
func parseTagList(v []byte) ([]tlv.Tag, error) {
	var tags []tlv.Tag
	for len(v) > 0 {
		if len(tags) == maxCOMTags {
			return nil, errTooManyTags
		}
		n := 1
		if v[0]&0x1F == 0x1F {
			for n < len(v) && n < tlv.MaxTagLen && v[n]&0x80 != 0 {
				n++
			}
			n++
			if n > len(v) || n > tlv.MaxTagLen {
				return nil, errBadTagList
			}
		}
		var t tlv.Tag
		for _, c := range v[:n] {
			t = t<<8 | tlv.Tag(c)
		}
		tags = append(tags, t)
		v = v[n:]
	}
	return tags, nil
}

var (
	errTooManyTags = tlvError("longer than 64 tags")
	errBadTagList  = tlvError("truncated or overlong tag")
)

// tlvError is a constant error about the tag list (5C) that wraps
// tlv.ErrMalformed, since the list is malformed BER tags.
type tlvError string

func (e tlvError) Error() string { return "icao: malformed tag list (5C): " + string(e) }
func (e tlvError) Unwrap() error { return tlv.ErrMalformed }

// EncodeCOM builds EF.COM from the LDS version ("0107"), the Unicode
// version ("040000") and the data group tags. An empty version is left
// out.
func EncodeCOM(ldsVersion, unicodeVersion string, tags []tlv.Tag) []byte {
	var list []byte
	for _, t := range tags {
		list = tlv.AppendTag(list, t)
	}
	var v []byte
	if ldsVersion != "" {
		v = tlv.Append(v, tagLDSVersion, []byte(ldsVersion))
	}
	if unicodeVersion != "" {
		v = tlv.Append(v, tagUnicodeVersion, []byte(unicodeVersion))
	}
	v = tlv.Append(v, tagTagList, list)
	return tlv.Encode(tagCOM, v)
}
