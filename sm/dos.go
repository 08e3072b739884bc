package sm

import (
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Secure messaging data object tags (ISO/IEC 7816-4 §10.2, 9303-11 §9.8).
const (
	tagCryptoTLV   byte = 0x85 // cryptogram of BER-TLV data (odd INS)
	tagCryptoPlain byte = 0x87 // padding-content indicator ‖ cryptogram
	tagLe          byte = 0x97 // Le of the unprotected command
	tagStatus      byte = 0x99 // processing status SW1 SW2
	tagChecksum    byte = 0x8E // cryptographic checksum
)

// paddingIndicator is the padding-content indicator in DO'87': ISO/IEC
// 9797-1 method 2 padding.
const paddingIndicator byte = 0x01

// maxNc is the largest data field of an extended APDU (ISO/IEC 7816-4 §5.1).
const maxNc = 65535

// maxNe is the largest expected response length of an extended APDU.
const maxNe = 65536

// dos is a parsed protected command body or protected response body.
type dos struct {
	crypt    []byte // cryptogram from DO'85' or DO'87', nil if absent
	le       []byte // value of DO'97' (commands)
	hasLe    bool
	sw       []byte // value of DO'99' (responses)
	mac      []byte // value of DO'8E'
	macInput []byte // every byte before DO'8E'
}

// readDO reads one SM data object: a one-byte tag and a length of one to
// three bytes (short form, 81 xx, 82 xx xx).
func readDO(b []byte) (tag byte, value, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("%w: truncated data object", ErrMalformed)
	}
	tag, n, h := b[0], int(b[1]), 2
	switch {
	case n < 0x80:
	case n == 0x81 && len(b) >= 3:
		n, h = int(b[2]), 3
	case n == 0x82 && len(b) >= 4:
		n, h = int(b[2])<<8|int(b[3]), 4
	default:
		return 0, nil, nil, fmt.Errorf("%w: bad length of tag %02X", ErrMalformed, tag)
	}
	if n > len(b)-h {
		return 0, nil, nil, fmt.Errorf("%w: tag %02X declares %d bytes, %d present", ErrMalformed, tag, n, len(b)-h)
	}
	return tag, b[h : h+n], b[h+n:], nil
}

// stage orders the data objects: cryptogram, then DO'97' (command) or
// DO'99' (response), then DO'8E', which ends the body. 0 means not allowed.
func stage(tag byte, response bool) int {
	switch {
	case tag == tagCryptoTLV || tag == tagCryptoPlain:
		return 1
	case tag == tagLe && !response, tag == tagStatus && response:
		return 2
	case tag == tagChecksum:
		return 3
	}
	return 0
}

// parseDOs splits a protected body into its data objects and checks their
// order, presence and lengths. bs is the cipher block size.
func parseDOs(body []byte, response bool, bs int) (dos, error) {
	var d dos
	last, hasMAC, hasSW := 0, false, false
	for rest := body; len(rest) > 0; {
		if hasMAC {
			return dos{}, fmt.Errorf("%w: %d bytes after DO'8E'", ErrMalformed, len(rest))
		}
		tag, value, next, err := readDO(rest)
		if err != nil {
			return dos{}, err
		}
		st := stage(tag, response)
		if st == 0 || st <= last {
			return dos{}, fmt.Errorf("%w: unexpected tag %02X", ErrMalformed, tag)
		}
		last = st
		switch {
		case st == 1:
			if d.crypt, err = cryptogram(tag, value, bs); err != nil {
				return dos{}, err
			}
		case tag == tagLe:
			d.le, d.hasLe = value, true
		case tag == tagStatus:
			d.sw, hasSW = value, true
		default:
			// DO'8E' is outside its own MAC: accept only the one encoding.
			if rest[1] != macLen {
				return dos{}, fmt.Errorf("%w: DO'8E' length", ErrMalformed)
			}
			d.mac, hasMAC = value, true
			d.macInput = body[:len(body)-len(rest)]
		}
		rest = next
	}
	return d, checkMandatory(d, response, hasMAC, hasSW)
}

func checkMandatory(d dos, response, hasMAC, hasSW bool) error {
	switch {
	case !hasMAC:
		return fmt.Errorf("%w: no DO'8E'", ErrMissing)
	case response && !hasSW:
		return fmt.Errorf("%w: no DO'99'", ErrMissing)
	case len(d.mac) != macLen:
		return fmt.Errorf("%w: DO'8E' of %d bytes", ErrMalformed, len(d.mac))
	case response && len(d.sw) != 2:
		return fmt.Errorf("%w: DO'99' of %d bytes", ErrMalformed, len(d.sw))
	case d.hasLe && len(d.le) != 1 && len(d.le) != 2:
		return fmt.Errorf("%w: DO'97' of %d bytes", ErrMalformed, len(d.le))
	}
	return nil
}

// cryptogram returns the ciphertext of DO'85' or DO'87' after checking the
// padding-content indicator and the block alignment.
func cryptogram(tag byte, value []byte, bs int) ([]byte, error) {
	ct := value
	if tag == tagCryptoPlain {
		if len(value) == 0 || value[0] != paddingIndicator {
			return nil, fmt.Errorf("%w: DO'87' without padding-content indicator 01", ErrMalformed)
		}
		ct = value[1:]
	}
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, fmt.Errorf("%w: cryptogram of %d bytes", ErrMalformed, len(ct))
	}
	return ct, nil
}

// appendCryptogram appends DO'85' (odd INS) or DO'87' holding ct.
func appendCryptogram(dst []byte, ct []byte, odd bool) []byte {
	if odd {
		dst = append(dst, tagCryptoTLV)
		dst = tlv.AppendLength(dst, len(ct))
	} else {
		dst = append(dst, tagCryptoPlain)
		dst = tlv.AppendLength(dst, 1+len(ct))
		dst = append(dst, paddingIndicator)
	}
	return append(dst, ct...)
}

// doLen is the encoded length of a data object with a one-byte tag and an
// n-byte value.
func doLen(n int) int { return 1 + tlv.LengthSize(n) + n }

// cryptogramLen is the encoded length of DO'87' (or DO'85' when odd) for n
// plain bytes.
func cryptogramLen(n, bs int, odd bool) int {
	if odd {
		return doLen(paddedLen(n, bs))
	}
	return doLen(1 + paddedLen(n, bs))
}

// ResponseLen is the length of the data of the protected response that
// carries n plain data bytes under suite s (9303-11 §9.8.5): DO'87' (DO'85'
// after an odd INS) with the padded cryptogram when n > 0, DO'99' and
// DO'8E'. Status words excluded.
func ResponseLen(s Suite, n int, odd bool) int {
	l := doLen(2) + doLen(macLen) // DO'99', DO'8E'
	if n > 0 {
		l += cryptogramLen(n, s.BlockSize(), odd)
	}
	return l
}

// maxShortLe is the largest Ne whose protected response (DO'87' + DO'99' +
// DO'8E') still fits the 256 data bytes of a short response APDU.
func maxShortLe(s Suite) int {
	for ne := 256; ne > 0; ne-- {
		if ResponseLen(s, ne, false) <= 256 {
			return ne
		}
	}
	return 0
}

// fitLe is the largest Ne (at most 65536) whose protected response
// carries at most n data bytes, found by bisection: ResponseLen grows with
// Ne.
func fitLe(s Suite, n int, odd bool) int {
	lo, hi := 0, maxNe
	if ResponseLen(s, 0, odd) > n {
		return 0
	}
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if ResponseLen(s, mid, odd) <= n {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}
