package pki

import (
	"fmt"
)

// maxBERDepth bounds the nesting of a BER encoding; CMS SignedData with a
// certificate nests about a dozen levels.
const maxBERDepth = 48

// berToDER converts the BER encoding of one element to DER lengths: it
// replaces indefinite lengths (X.690 §8.1.3.6) and non-minimal length
// octets by definite minimal ones and joins a constructed OCTET STRING
// into a primitive one (X.690 §8.7.3). Elements that already have DER
// lengths, and every primitive content, are kept byte for byte, so the
// signed parts (a certificate's TBSCertificate, the signed attributes)
// keep their signatures. Some States write EF.SOD in BER (9303-10 §4.6.2
// allows it; New Zealand's uses indefinite lengths).
func berToDER(b []byte) ([]byte, error) {
	out, _, rest, err := convertBER(b, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: data after the BER element", ErrMalformed)
	}
	return out, nil
}

// berHeader is the identifier and length octets of an element.
type berHeader struct {
	tag         []byte // identifier octets
	constructed bool
	indefinite  bool
	length      int // content length when definite
	size        int // header length
	minimal     bool
}

func readBERHeader(b []byte) (berHeader, error) {
	var h berHeader
	if len(b) < 2 {
		return h, fmt.Errorf("%w: truncated BER", ErrMalformed)
	}
	i := 1
	if b[0]&0x1f == 0x1f { // high tag number form
		for ; ; i++ {
			if i >= len(b) || i > 5 {
				return h, fmt.Errorf("%w: BER tag", ErrMalformed)
			}
			if b[i]&0x80 == 0 {
				i++
				break
			}
		}
	}
	h.tag, h.constructed = b[:i], b[0]&0x20 != 0
	if i >= len(b) {
		return h, fmt.Errorf("%w: truncated BER", ErrMalformed)
	}
	l := b[i]
	i++
	h.minimal = true
	switch {
	case l < 0x80:
		h.length = int(l)
	case l == 0x80:
		if !h.constructed {
			return h, fmt.Errorf("%w: indefinite length of a primitive element", ErrMalformed)
		}
		h.indefinite, h.minimal = true, false
	default:
		n := int(l & 0x7f)
		if n > 4 || i+n > len(b) {
			return h, fmt.Errorf("%w: BER length", ErrMalformed)
		}
		for _, c := range b[i : i+n] {
			h.length = h.length<<8 | int(c)
		}
		i += n
		h.minimal = h.length >= 0x80 && b[i-n] != 0
	}
	h.size = i
	if !h.indefinite && (h.length < 0 || h.length > len(b)-i) {
		return h, fmt.Errorf("%w: BER length beyond the data", ErrMalformed)
	}
	return h, nil
}

// convertBER converts the element at the start of b and returns it, whether
// it differs from the input, and the bytes after it.
func convertBER(b []byte, depth int) (out []byte, changed bool, rest []byte, err error) {
	if depth > maxBERDepth {
		return nil, false, nil, fmt.Errorf("%w: BER nested too deep", ErrMalformed)
	}
	h, err := readBERHeader(b)
	if err != nil {
		return nil, false, nil, err
	}
	if !h.constructed {
		end := h.size + h.length
		if h.minimal {
			return b[:end], false, b[end:], nil
		}
		return appendElement(nil, h.tag, b[h.size:end]), true, b[end:], nil
	}
	var children [][]byte
	body := b[h.size:]
	if !h.indefinite {
		body = b[h.size : h.size+h.length]
	}
	anyChanged := !h.minimal
	for {
		if h.indefinite {
			if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				body = body[2:]
				break
			}
		} else if len(body) == 0 {
			break
		}
		if len(body) == 0 {
			return nil, false, nil, fmt.Errorf("%w: BER without end-of-contents", ErrMalformed)
		}
		child, ch, r, err := convertBER(body, depth+1)
		if err != nil {
			return nil, false, nil, err
		}
		children, body, anyChanged = append(children, child), r, anyChanged || ch
	}
	if h.indefinite {
		rest = body
	} else {
		rest = b[h.size+h.length:]
	}
	if len(h.tag) == 1 && h.tag[0] == 0x24 { // constructed OCTET STRING
		var content []byte
		for _, c := range children {
			ch, err := readBERHeader(c)
			if err != nil || len(ch.tag) != 1 || ch.tag[0] != 0x04 {
				return nil, false, nil, fmt.Errorf("%w: segment of a constructed OCTET STRING", ErrMalformed)
			}
			content = append(content, c[ch.size:]...)
		}
		return appendElement(nil, []byte{0x04}, content), true, rest, nil
	}
	if !anyChanged {
		return b[:h.size+h.length], false, rest, nil
	}
	var content []byte
	for _, c := range children {
		content = append(content, c...)
	}
	return appendElement(nil, h.tag, content), true, rest, nil
}

// appendElement appends tag, a DER length and content to dst.
func appendElement(dst, tag, content []byte) []byte {
	dst = append(dst, tag...)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n < 0x100:
		dst = append(dst, 0x81, byte(n))
	case n < 0x10000:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}
