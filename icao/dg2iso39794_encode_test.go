package icao

// The ISO/IEC 39794-5 DG2 encoder exists for tests only (round trips and
// fuzzing of the parser): the reader never writes a DG2.

import (
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// EncodeDG2ISO39794 builds DG2 with one biometric information template per
// image, each holding an ISO/IEC 39794-5 face image data block (7F2E) as
// ICAO's application profile lays it out: version 3/2019, one 2D
// representation with the image data format and size. Formats must be JPEG
// or JPEG 2000 (written as lossy); width and height must fit 16 bits.
func EncodeDG2ISO39794(images []FaceImage) ([]byte, error) {
	return encodeDG2(images, tagBDB39794, 0x2A, encode39794)
}

func encode39794(img FaceImage) ([]byte, error) {
	var code int
	switch img.Format {
	case ImageJPEG:
		code = 2
	case ImageJPEG2000:
		code = 3
	default:
		return nil, fmt.Errorf("%w: the ISO/IEC 39794-5 profile holds only JPEG and JPEG 2000", ErrEncode)
	}
	version := appendUint(appendUint(nil, tagCtx0, 3), tagCtx1, 2019)
	size := appendUint(appendUint(nil, tagCtx0, img.Width), tagCtx1, img.Height)
	var info []byte
	info = tlv.Append(info, tagCtx0C, appendUint(nil, tagCtx0, code))
	info = tlv.Append(info, tagCtx7C, size)
	block2D := tlv.Append(tlv.Encode(tagCtx0, img.Data), tagCtx1C, info)
	rep := tlv.Encode(tagCtx0C, tlv.Encode(tagCtx0C, block2D))
	block := tlv.Append(appendUint(nil, tagCtx0, 1), tagCtx1C, rep)
	var fidb []byte
	fidb = tlv.Append(fidb, tagCtx0C, version)
	fidb = tlv.Append(fidb, tagCtx1C, tlv.Encode(0x30, block))
	return tlv.Encode(tag39794Wrapper, tlv.Encode(tag39794Block, fidb)), nil
}

// appendUint appends a data object holding the minimal two's complement
// encoding of the non-negative n.
func appendUint(dst []byte, tag tlv.Tag, n int) []byte {
	var v []byte
	for x := n; ; x >>= 8 {
		v = append([]byte{byte(x)}, v...)
		if x < 0x80 {
			break
		}
	}
	return tlv.Append(dst, tag, v)
}
