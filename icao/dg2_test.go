package icao

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

func TestDG2RoundTrip(t *testing.T) {
	jpg := tinyJPEG(t, 8, 8)
	tests := []struct {
		name   string
		encode func([]FaceImage) ([]byte, error)
		faces  []FaceImage
	}{
		{"19794 JPEG", EncodeDG2, []FaceImage{{ImageJPEG, 8, 8, jpg}}},
		{"19794 JP2", EncodeDG2, []FaceImage{{ImageJPEG2000, 413, 531, fakeJP2()}}},
		{"19794 J2K codestream", EncodeDG2, []FaceImage{{ImageJPEG2000, 1, 65535, fakeJ2K()}}},
		{"19794 three faces", EncodeDG2, []FaceImage{{ImageJPEG, 8, 8, jpg}, {ImageJPEG2000, 2, 3, fakeJP2()}, {ImageJPEG, 0, 0, jpg}}},
		{"19794 large image", EncodeDG2, []FaceImage{{ImageJPEG, 640, 480, append(bytes.Clone(jpg), make([]byte, 70000)...)}}},
		{"39794 JPEG", EncodeDG2ISO39794, []FaceImage{{ImageJPEG, 8, 8, jpg}}},
		{"39794 JP2", EncodeDG2ISO39794, []FaceImage{{ImageJPEG2000, 65535, 128, fakeJP2()}}},
		{"39794 sixteen faces", EncodeDG2ISO39794, bytes16(FaceImage{ImageJPEG, 8, 8, jpg})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.encode(tc.faces)
			require.NoError(t, err)
			d, err := ParseDG2(b)
			require.NoError(t, err)
			assert.Equal(t, tc.faces, d.Faces)
			assert.Equal(t, b, d.Raw)
			d.Faces[0].Data = append(d.Faces[0].Data, 0xEE)
			assert.Equal(t, b, d.Raw, "appending to Data must not write into Raw")
		})
	}
}

func bytes16(f FaceImage) []FaceImage {
	out := make([]FaceImage, maxFaces)
	for i := range out {
		out[i] = f
	}
	return out
}

// dg2 wraps biometric information templates in DG2.
func dg2(count byte, bits ...[]byte) []byte {
	group := tlv.Encode(0x02, []byte{count})
	for _, bit := range bits {
		group = tlv.Append(group, 0x7F60, bit)
	}
	return tlv.Encode(0x75, tlv.Encode(0x7F61, group))
}

// bit19794 builds a template with a 19794-5 record; mod edits the record.
func bit19794(t *testing.T, f FaceImage, mod func([]byte) []byte) []byte {
	rec, err := encode19794(f)
	require.NoError(t, err)
	if mod != nil {
		rec = mod(rec)
	}
	return tlv.Append(tlv.Encode(0xA1, unhex(t, "8702 0101 8802 0008")), 0x5F2E, rec)
}

// fidb39794 builds the value of 7F2E by hand from its parts.
func fidb39794(version, blocks []byte) []byte {
	return tlv.Append(tlv.Encode(0xA0, version), 0xA1, blocks)
}

func rep39794(data []byte, info []byte) []byte {
	block2D := tlv.Append(tlv.Encode(0x80, data), 0xA1, info)
	return tlv.Append([]byte{0x80, 0x01, 0x00}, 0xA1, tlv.Encode(0xA0, tlv.Encode(0xA0, block2D)))
}

func TestParseDG2Variants(t *testing.T) {
	jpg := tinyJPEG(t, 8, 8)
	version := unhex(t, "8001 03 8102 07E3")
	jpegInfo := unhex(t, "A003 800102 A708 8002 0100 8102 00FF")
	lossless := unhex(t, "A003 800104")
	tests := []struct {
		name string
		in   []byte
		want []FaceImage
	}{
		{"19794 header says JPEG 2000, bytes are JPEG", dg2(1, bit19794(t, FaceImage{ImageJPEG2000, 8, 8, jpg}, nil)),
			[]FaceImage{{ImageJPEG, 8, 8, jpg}}},
		{"19794 unknown bytes keep the header's format", dg2(1, bit19794(t, FaceImage{ImageJPEG2000, 8, 8, []byte("xyz")}, nil)),
			[]FaceImage{{ImageJPEG2000, 8, 8, []byte("xyz")}}},
		{"19794 unknown image data type, PNG bytes", dg2(1, bit19794(t, FaceImage{ImageJPEG, 8, 8, magicPNG}, func(r []byte) []byte { r[35] = 7; return r })),
			[]FaceImage{{ImagePNG, 8, 8, magicPNG}}},
		{"19794 record length 8 short (NZ)", dg2(1, bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, func(r []byte) []byte {
			binary.BigEndian.PutUint32(r[8:], uint32(len(r)-8))
			return r
		})), []FaceImage{{ImageJPEG, 8, 8, jpg}}},
		{"19794 two faces in one record", dg2(1, bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, func(r []byte) []byte {
			binary.BigEndian.PutUint16(r[12:], 2)
			return append(r, r[14:]...)
		})), []FaceImage{{ImageJPEG, 8, 8, jpg}, {ImageJPEG, 8, 8, jpg}}},
		{"19794 feature points", dg2(1, bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, func(r []byte) []byte {
			binary.BigEndian.PutUint32(r[14:], binary.BigEndian.Uint32(r[14:])+16)
			binary.BigEndian.PutUint16(r[18:], 2)
			return append(r[:34:34], append(make([]byte, 16), r[34:]...)...)
		})), []FaceImage{{ImageJPEG, 8, 8, jpg}}},
		{"19794 trailing bytes after the faces", dg2(1, bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, func(r []byte) []byte { return append(r, 0, 0) })),
			[]FaceImage{{ImageJPEG, 8, 8, jpg}}},
		{"39794 without A1 wrapper", dg2(1, tlv.Encode(0x7F2E, tlv.Encode(0x65, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, jpegInfo)))))),
			[]FaceImage{{ImageJPEG, 256, 255, jpg}}},
		{"39794 without APPLICATION 5", dg2(1, tlv.Encode(0x7F2E, tlv.Encode(0xA1, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, jpegInfo)))))),
			[]FaceImage{{ImageJPEG, 256, 255, jpg}}},
		{"39794 bare", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, jpegInfo))))),
			[]FaceImage{{ImageJPEG, 256, 255, jpg}}},
		{"39794 block without SEQUENCE", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, rep39794(jpg, jpegInfo)))),
			[]FaceImage{{ImageJPEG, 256, 255, jpg}}},
		{"39794 lossless JPEG 2000, no size", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794([]byte("j2k?"), lossless))))),
			[]FaceImage{{ImageJPEG2000, 0, 0, []byte("j2k?")}}},
		{"39794 format extension block", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(fakeJ2K(), unhex(t, "A002 A100")))))),
			[]FaceImage{{ImageJPEG2000, 0, 0, fakeJ2K()}}},
		{"mixed encodings", dg2(2, bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, nil),
			tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, jpegInfo))))),
			[]FaceImage{{ImageJPEG, 8, 8, jpg}, {ImageJPEG, 256, 255, jpg}}},
		{"template without header", dg2(1, tlv.Encode(0x5F2E, mustRecord(t, FaceImage{ImageJPEG, 8, 8, jpg}))),
			[]FaceImage{{ImageJPEG, 8, 8, jpg}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDG2(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, d.Faces)
		})
	}
}

func mustRecord(t *testing.T, f FaceImage) []byte {
	rec, err := encode19794(f)
	require.NoError(t, err)
	return rec
}

func TestParseDG2Errors(t *testing.T) {
	jpg := tinyJPEG(t, 8, 8)
	good := bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, nil)
	rec := func(mod func([]byte) []byte) []byte {
		return dg2(1, bit19794(t, FaceImage{ImageJPEG, 8, 8, jpg}, mod))
	}
	version := unhex(t, "8001 03 8102 07E3")
	info := unhex(t, "A003 800102")
	many := make([][]byte, 17)
	for i := range many {
		many[i] = tlv.Encode(0x30, rep39794(jpg, info))
	}
	tests := []struct {
		name string
		in   []byte
		msg  string
	}{
		{"empty", nil, "empty input"},
		{"wrong tag", tlv.Encode(0x76, tlv.Encode(0x7F61, nil)), "tag 76 where 75 was expected"},
		{"no group template", tlv.Encode(0x75, tlv.Encode(0x7F60, good)), "tag 7F60 where 7F61 was expected"},
		{"absurd length", unhex(t, "75 84 7F FF FF FF 7F 61"), "declares 2147483647 bytes"},
		{"truncated", dg2(1, good)[:100], "declares"},
		{"count zero", dg2(0, good), "bad instance count"},
		{"count 17", dg2(17, good), "bad instance count"},
		{"count mismatch", dg2(2, good), "does not match the templates"},
		{"no count", tlv.Encode(0x75, tlv.Encode(0x7F61, tlv.Encode(0x7F60, good))), "does not match the templates"},
		{"seventeen templates", dg2(16, good, good, good, good, good, good, good, good, good, good, good, good, good, good, good, good, good), "more than 17 objects"},
		{"no data block", dg2(1, tlv.Encode(0xA1, nil)), "no biometric data block"},
		{"two data blocks", dg2(1, append(bytes.Clone(good), tlv.Encode(0x5F2E, nil)...)), "two biometric data blocks"},
		{"not FAC", rec(func(r []byte) []byte { r[0] = 'X'; return r }), "does not start with FAC"},
		{"short record", dg2(1, tlv.Encode(0x5F2E, []byte("FAC\x00010\x00"))), "does not start with FAC"},
		{"version 030", rec(func(r []byte) []byte { r[5] = '3'; return r }), "version is not 010"},
		{"no faces", rec(func(r []byte) []byte { r[13] = 0; return r }), "face count out of range"},
		{"too many faces", rec(func(r []byte) []byte { r[12] = 0xFF; return r }), "face count out of range"},
		{"second face missing", rec(func(r []byte) []byte { r[13] = 2; return r }), "truncated facial information"},
		{"face longer than record", rec(func(r []byte) []byte { r[14] = 0x7F; return r }), "data length out of range"},
		{"face shorter than its headers", rec(func(r []byte) []byte { binary.BigEndian.PutUint32(r[14:], 31); return r }), "data length out of range"},
		{"feature points past the face", rec(func(r []byte) []byte { binary.BigEndian.PutUint16(r[18:], 0xFFFF); return r }), "data length out of range"},
		{"39794 no version", dg2(1, tlv.Encode(0x7F2E, tlv.Encode(0xA1, tlv.Encode(0x65, tlv.Encode(0xA1, nil))))), "lacks version or representation"},
		{"39794 seventeen faces", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, bytes.Join(many, nil)))), "more than 16 objects"},
		{"39794 image extension", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, unhex(t, "800100 A102 A100"))))), "tag A1 where A0 was expected"},
		{"39794 no image representation", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, unhex(t, "800100"))))), "lacks an image representation"},
		{"39794 no data", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, unhex(t, "800100 A109 A007 A005 A103 A00100"))))), "lacks data or image information"},
		{"39794 no format", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, unhex(t, "A706 800101 8101 01")))))), "lacks the image data format"},
		{"39794 negative width", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, unhex(t, "A003 800102 A706 8001 FF 8101 01")))))), "bad image size"},
		{"39794 height above 65535", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, unhex(t, "A003 800102 A708 8001 01 8103 010000")))))), "bad image size"},
		{"39794 no height", dg2(1, tlv.Encode(0x7F2E, fidb39794(version, tlv.Encode(0x30, rep39794(jpg, unhex(t, "A003 800102 A703 8001 01")))))), "bad image size"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDG2(tc.in)
			assert.Nil(t, d)
			require.ErrorIs(t, err, ErrMalformedLDS)
			assert.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestEncodeDG2Errors(t *testing.T) {
	jpg := FaceImage{ImageJPEG, 8, 8, []byte{0xFF, 0xD8, 0xFF}}
	tests := []struct {
		name   string
		images []FaceImage
		msg    string
	}{
		{"no images", nil, "1 to 16 images"},
		{"seventeen images", append(bytes16(jpg), jpg), "1 to 16 images"},
		{"PNG", []FaceImage{{ImagePNG, 8, 8, magicPNG}}, "only JPEG and JPEG 2000"},
		{"unknown", []FaceImage{{ImageUnknown, 8, 8, nil}}, "only JPEG and JPEG 2000"},
		{"wide", []FaceImage{{ImageJPEG, 65536, 8, nil}}, "size out of range"},
		{"negative", []FaceImage{{ImageJPEG, 8, -1, nil}}, "size out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, encode := range []func([]FaceImage) ([]byte, error){EncodeDG2, EncodeDG2ISO39794} {
				b, err := encode(tc.images)
				assert.Nil(t, b)
				assert.ErrorIs(t, err, ErrEncode)
				assert.ErrorContains(t, err, tc.msg)
			}
		})
	}
}

func TestImageFormat(t *testing.T) {
	assert.Equal(t, "image/jpeg", ImageJPEG.String())
	assert.Equal(t, "image/jp2", ImageJPEG2000.String())
	assert.Equal(t, "image/png", ImagePNG.String())
	assert.Equal(t, "application/octet-stream", ImageUnknown.String())
	assert.Equal(t, ImageJPEG2000, sniffImage(fakeJ2K(), ImageJPEG))
	assert.Equal(t, ImageUnknown, sniffImage([]byte{0xFF, 0xD8}, ImageUnknown))
}
