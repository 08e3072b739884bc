package icao

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Tags of DG2 (9303-10 §4.7.2, ISO/IEC 7816-11).
const (
	tagDG2         tlv.Tag = 0x75
	tagBIGT        tlv.Tag = 0x7F61 // biometric information group template
	tagBIT         tlv.Tag = 0x7F60 // biometric information template
	tagBIGTCount   tlv.Tag = 0x02   // number of BITs in the group
	tagBHT         tlv.Tag = 0xA1   // biometric header template
	tagBDB19794    tlv.Tag = 0x5F2E // biometric data block, ISO/IEC 19794-5:2005
	tagBDB39794    tlv.Tag = 0x7F2E // biometric data block, ISO/IEC 39794-5
	maxFaces               = 16     // faces per DG2, over all templates
	fac19794Header         = 14     // "FAC\0", "010\0", record length, face count
	fac19794Face           = 20     // facial information block
	fac19794Point          = 8      // one feature point
	fac19794Image          = 12     // image information block
)

// ImageFormat is the encoding of a face image.
type ImageFormat int

// Image formats.
const (
	ImageUnknown ImageFormat = iota
	ImageJPEG
	ImageJPEG2000 // a JP2 file or a bare J2K codestream
	ImagePNG
)

// String returns the media type: "image/jpeg", "image/jp2", "image/png",
// or "application/octet-stream" for an unknown format.
func (f ImageFormat) String() string {
	switch f {
	case ImageJPEG:
		return "image/jpeg"
	case ImageJPEG2000:
		return "image/jp2"
	case ImagePNG:
		return "image/png"
	}
	return "application/octet-stream"
}

// FaceImage is one encoded face image of DG2. A face is biometric data, so
// FaceImage has no String method; it logs as its format, dimensions and
// size only, such as "FaceImage{image/jpeg 480x640 18000B}", and fmt
// prints its Data as the size only ([ImageData.Format]).
type FaceImage struct {
	// Format is the image encoding. When the bytes start with a known
	// signature (JPEG FFD8FF, JP2 0000000C6A5020200D0A870A, J2K
	// codestream FF4FFF51, PNG) that signature decides, whatever the
	// biometric header says, since the header is what issuers get wrong
	// and the signature is what image decoders go by.
	Format ImageFormat
	// Width and Height are in pixels as the biometric header states them;
	// zero when the header does not state them.
	Width, Height int
	// Data is the encoded image. In a parsed DG2 it aliases [DG2.Raw].
	Data ImageData
}

// ImageData is the bytes of an encoded face image. It is a []byte for
// every purpose but printing: fmt and slog print its size only, such as
// "18000B", so that a %v or %d of a [FaceImage] cannot print the face.
// (FaceImage itself cannot have a Format method: it has a field of that
// name.)
type ImageData []byte

// LogValue keeps the image out of structured logs: its size only.
func (d ImageData) LogValue() slog.Value { return slog.StringValue(d.size()) }

// Format prints the size for every fmt verb (%v, %d, %x …), never the
// bytes.
func (d ImageData) Format(s fmt.State, _ rune) { io.WriteString(s, d.size()) }

func (d ImageData) size() string { return strconv.Itoa(len(d)) + "B" }

// DG2 is data group 2, the encoded face (9303-10 §4.7.2). It is biometric
// data, so DG2 has no String method; it logs and formats as the number of
// faces and the sizes only, such as
// "DG2{faces:1 raw:18071B [FaceImage{image/jpeg 480x640 18000B}]}".
type DG2 struct {
	Faces []FaceImage
	Raw   []byte // the whole file
}

// describe names the format, the dimensions and the size of the image.
func (f FaceImage) describe() string {
	return fmt.Sprintf("FaceImage{%s %dx%d %dB}", f.Format, f.Width, f.Height, len(f.Data))
}

// LogValue keeps the image out of structured logs: format, dimensions and
// size only.
func (f FaceImage) LogValue() slog.Value { return slog.StringValue(f.describe()) }

// describe counts the faces and gives the sizes.
func (d DG2) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DG2{faces:%d raw:%dB [", len(d.Faces), len(d.Raw))
	for i, f := range d.Faces {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.describe())
	}
	b.WriteString("]}")
	return b.String()
}

// LogValue keeps the face out of structured logs: counts and sizes only.
func (d DG2) LogValue() slog.Value { return slog.StringValue(d.describe()) }

// Format prints counts and sizes for every fmt verb, never the bytes.
func (d DG2) Format(s fmt.State, _ rune) { io.WriteString(s, d.describe()) }

// ParseDG2 parses DG2 with face records in ISO/IEC 19794-5:2005 (5F2E) or
// ISO/IEC 39794-5 (7F2E) encoding. It returns at most 16 faces and fails
// when the group template's instance count (02) does not match the number
// of templates. Errors wrap [ErrMalformedLDS].
func ParseDG2(b []byte) (*DG2, error) {
	const file = "DG2"
	raw, value, err := openFile(b, tagDG2, file)
	if err != nil {
		return nil, err
	}
	group, err := tlv.DecodeExpect(value, tagBIGT)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	objs, err := tlv.Children(group.Value, maxFaces+1)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	d := &DG2{Raw: raw}
	count, bits := -1, 0
	for _, o := range objs {
		switch o.Tag {
		case tagBIGTCount:
			if count >= 0 || len(o.Value) != 1 || o.Value[0] < 1 || o.Value[0] > maxFaces {
				return nil, malformed(file, "bad instance count (02)")
			}
			count = int(o.Value[0])
		case tagBIT:
			bits++
			if d.Faces, err = parseBIT(o.Value, d.Faces); err != nil {
				return nil, err
			}
		}
	}
	if count != bits {
		return nil, malformed(file, "instance count (02) does not match the templates")
	}
	return d, nil
}

// parseBIT appends the faces of one biometric information template.
func parseBIT(v []byte, faces []FaceImage) ([]FaceImage, error) {
	objs, err := tlv.Children(v, 8)
	if err != nil {
		return nil, malformedTLV("DG2", err)
	}
	var bdb *tlv.Object
	for i, o := range objs {
		if o.Tag == tagBDB19794 || o.Tag == tagBDB39794 {
			if bdb != nil {
				return nil, malformed("DG2", "two biometric data blocks in one template")
			}
			bdb = &objs[i]
		}
	}
	if bdb == nil {
		return nil, malformed("DG2", "no biometric data block (5F2E or 7F2E)")
	}
	if bdb.Tag == tagBDB39794 {
		return parse39794(bdb.Value, faces)
	}
	return parse19794(bdb.Value, faces)
}

// parse19794 appends the faces of an ISO/IEC 19794-5:2005 facial record
// (§5.4–5.7). The record length in the header is not checked against the
// data: some chips count it differently (gmrtd found records 8 bytes short
// of it), and each face carries its own length.
func parse19794(b []byte, faces []FaceImage) ([]FaceImage, error) {
	const file = "DG2"
	if len(b) < fac19794Header || !bytes.Equal(b[:4], []byte("FAC\x00")) {
		return nil, malformed(file, "facial record does not start with FAC")
	}
	if !bytes.Equal(b[4:8], []byte("010\x00")) {
		return nil, malformed(file, "facial record version is not 010")
	}
	n := int(binary.BigEndian.Uint16(b[12:14]))
	if n < 1 || len(faces)+n > maxFaces {
		return nil, malformed(file, "face count out of range")
	}
	p := b[fac19794Header:]
	for range n {
		if len(p) < fac19794Face {
			return nil, malformed(file, "truncated facial information")
		}
		size := int64(binary.BigEndian.Uint32(p[0:4]))
		info := int64(fac19794Face) + int64(binary.BigEndian.Uint16(p[4:6]))*fac19794Point
		if size > int64(len(p)) || info+fac19794Image > size {
			return nil, malformed(file, "facial record data length out of range")
		}
		img := p[info : info+fac19794Image]
		f := FaceImage{
			Width:  int(binary.BigEndian.Uint16(img[2:4])),
			Height: int(binary.BigEndian.Uint16(img[4:6])),
			Data:   p[info+fac19794Image : size : size],
		}
		switch img[1] {
		case 0:
			f.Format = ImageJPEG
		case 1:
			f.Format = ImageJPEG2000
		}
		f.Format = sniffImage(f.Data, f.Format)
		faces = append(faces, f)
		p = p[size:]
	}
	return faces, nil
}

// Image signatures.
var (
	magicJPEG = []byte{0xFF, 0xD8, 0xFF}
	magicJP2  = []byte{0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A}
	magicJ2K  = []byte{0xFF, 0x4F, 0xFF, 0x51}
	magicPNG  = []byte{0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A}
)

// sniffImage returns the format the image's signature shows, or claimed
// when the signature is not one it knows.
func sniffImage(data []byte, claimed ImageFormat) ImageFormat {
	switch {
	case bytes.HasPrefix(data, magicJPEG):
		return ImageJPEG
	case bytes.HasPrefix(data, magicJP2), bytes.HasPrefix(data, magicJ2K):
		return ImageJPEG2000
	case bytes.HasPrefix(data, magicPNG):
		return ImagePNG
	}
	return claimed
}

// EncodeDG2 builds DG2 with one biometric information template per image,
// each holding an ISO/IEC 19794-5:2005 facial record (5F2E) of one face.
// Formats must be JPEG or JPEG 2000, the only ones 19794-5 can name;
// width and height must fit 16 bits. The image bytes are not inspected, so
// a test dataset may use filler bytes of any size.
func EncodeDG2(images []FaceImage) ([]byte, error) {
	return encodeDG2(images, tagBDB19794, 0x0008, encode19794)
}

// encodeDG2 wraps one biometric data block per image in the DG2 templates.
// formatType is the CBEFF format type in the header template (ISO/IEC
// 19785-3; 0x0008 for 19794-5 faces, 0x002A for 39794-5).
func encodeDG2(images []FaceImage, bdbTag tlv.Tag, formatType byte, bdb func(FaceImage) ([]byte, error)) ([]byte, error) {
	if len(images) < 1 || len(images) > maxFaces {
		return nil, fmt.Errorf("%w: DG2 needs 1 to 16 images", ErrEncode)
	}
	var bht []byte
	bht = tlv.Append(bht, 0x80, []byte{0x01, 0x01}) // ICAO header version 1.1
	bht = tlv.Append(bht, 0x81, []byte{0x02})       // biometric type: facial features
	bht = tlv.Append(bht, 0x82, []byte{0x00})       // subtype: none
	bht = tlv.Append(bht, 0x87, []byte{0x01, 0x01}) // format owner: ISO/IEC JTC 1/SC 37
	bht = tlv.Append(bht, 0x88, []byte{0x00, formatType})
	group := tlv.Encode(tagBIGTCount, []byte{byte(len(images))})
	for _, img := range images {
		if img.Width < 0 || img.Width > 0xFFFF || img.Height < 0 || img.Height > 0xFFFF {
			return nil, fmt.Errorf("%w: DG2 image size out of range", ErrEncode)
		}
		block, err := bdb(img)
		if err != nil {
			return nil, err
		}
		bit := tlv.Append(tlv.Encode(tagBHT, bht), bdbTag, block)
		group = tlv.Append(group, tagBIT, bit)
	}
	return tlv.Encode(tagDG2, tlv.Encode(tagBIGT, group)), nil
}

// encode19794 returns an ISO/IEC 19794-5:2005 facial record of one face:
// full frontal, no feature points, everything else unspecified.
func encode19794(img FaceImage) ([]byte, error) {
	var dataType byte
	switch img.Format {
	case ImageJPEG:
		dataType = 0
	case ImageJPEG2000:
		dataType = 1
	default:
		return nil, fmt.Errorf("%w: ISO/IEC 19794-5 holds only JPEG and JPEG 2000", ErrEncode)
	}
	faceLen := fac19794Face + fac19794Image + len(img.Data)
	if int64(faceLen)+fac19794Header > 1<<31-1 {
		return nil, fmt.Errorf("%w: DG2 image too large", ErrEncode)
	}
	b := make([]byte, 0, fac19794Header+faceLen)
	b = append(b, "FAC\x00010\x00"...)
	b = binary.BigEndian.AppendUint32(b, uint32(fac19794Header+faceLen))
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint32(b, uint32(faceLen))
	b = append(b, make([]byte, fac19794Face-4)...) // no points, gender, eyes, hair, mask, expression, pose
	b = append(b, 1, dataType)                     // full frontal
	b = binary.BigEndian.AppendUint16(b, uint16(img.Width))
	b = binary.BigEndian.AppendUint16(b, uint16(img.Height))
	b = append(b, make([]byte, 6)...) // colour space, source, device, quality: unspecified
	return append(b, img.Data...), nil
}
