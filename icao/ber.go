package icao

import "github.com/nfcbridge/nfcbridge/icao/tlv"

// only decodes value as exactly one data object with the given tag.
func only(value []byte, tag tlv.Tag, file string) (tlv.Object, error) {
	o, err := tlv.DecodeExpect(value, tag)
	if err != nil {
		return tlv.Object{}, malformedTLV(file, err)
	}
	return o, nil
}

// find returns the first object with the given tag, or nil.
func find(objs []tlv.Object, tag tlv.Tag) *tlv.Object {
	for i := range objs {
		if objs[i].Tag == tag {
			return &objs[i]
		}
	}
	return nil
}

// berUint decodes the content of a non-negative INTEGER or ENUMERATED
// below 2^31. A leading zero byte is tolerated, as BER writers emit one.
func berUint(v []byte) (int, bool) {
	if len(v) == 0 || v[0]&0x80 != 0 {
		return 0, false
	}
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) > 4 || len(v) == 4 && v[0]&0x80 != 0 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		n = n<<8 | int(c)
	}
	return n, true
}
