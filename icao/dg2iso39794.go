package icao

import (
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// Tags of an ISO/IEC 39794-5 face image data block as ICAO's application
// profile puts it under 7F2E (ISO/IEC 39794-5 AP for eMRTDs, Table 2):
// A1 { [APPLICATION 5] FaceImageDataBlock }, with implicit context tags
// inside and explicit ones around CHOICEs.
const (
	tag39794Wrapper tlv.Tag = 0xA1
	tag39794Block   tlv.Tag = 0x65 // [APPLICATION 5] FaceImageDataBlock
	tagCtx0         tlv.Tag = 0x80 // [0] primitive
	tagCtx1         tlv.Tag = 0x81 // [1] primitive
	tagCtx0C        tlv.Tag = 0xA0 // [0] constructed
	tagCtx1C        tlv.Tag = 0xA1 // [1] constructed
	tagCtx7C        tlv.Tag = 0xA7 // [7] constructed: imageSizeBlock
)

// parse39794 appends the faces of an ISO/IEC 39794-5 face image data
// block. The A1 wrapper and the [APPLICATION 5] tag are each optional, so
// that early encoders that leave one out are read too.
func parse39794(v []byte, faces []FaceImage) ([]FaceImage, error) {
	const file = "DG2"
	objs, err := tlv.Children(v, 16)
	for _, wrapper := range []tlv.Tag{tag39794Wrapper, tag39794Block} {
		if err == nil && len(objs) == 1 && objs[0].Tag == wrapper {
			objs, err = tlv.Children(objs[0].Value, 16)
		}
	}
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	reps := find(objs, tagCtx1C)
	if find(objs, tagCtx0C) == nil || reps == nil {
		return nil, malformed(file, "face image data block lacks version or representation blocks")
	}
	blocks, err := tlv.Children(reps.Value, maxFaces)
	if err != nil {
		return nil, malformedTLV(file, err)
	}
	var values [][]byte
	for _, b := range blocks {
		if b.Tag == 0x30 {
			values = append(values, b.Value)
		}
	}
	if len(values) == 0 {
		values = [][]byte{reps.Value} // a single block without its SEQUENCE
	}
	for _, block := range values {
		if len(faces) == maxFaces {
			return nil, malformed(file, "more than 16 faces")
		}
		f, err := parse39794Representation(block)
		if err != nil {
			return nil, err
		}
		faces = append(faces, f)
	}
	return faces, nil
}

// parse39794Representation reads one RepresentationBlock: the image from
// imageRepresentation [1] → base [0] → imageRepresentation2DBlock [0].
func parse39794Representation(v []byte) (FaceImage, error) {
	const file = "DG2"
	objs, err := tlv.Children(v, 16)
	if err != nil {
		return FaceImage{}, malformedTLV(file, err)
	}
	rep := find(objs, tagCtx1C)
	if rep == nil {
		return FaceImage{}, malformed(file, "representation block lacks an image representation")
	}
	base, err := only(rep.Value, tagCtx0C, file)
	if err != nil {
		return FaceImage{}, err
	}
	block2D, err := only(base.Value, tagCtx0C, file)
	if err != nil {
		return FaceImage{}, err
	}
	fields, err := tlv.Children(block2D.Value, 16)
	if err != nil {
		return FaceImage{}, malformedTLV(file, err)
	}
	data, info := find(fields, tagCtx0), find(fields, tagCtx1C)
	if data == nil || info == nil {
		return FaceImage{}, malformed(file, "2D image representation lacks data or image information")
	}
	f := FaceImage{Data: data.Value[:len(data.Value):len(data.Value)]}
	if err := parse39794Info(info.Value, &f); err != nil {
		return FaceImage{}, err
	}
	f.Format = sniffImage(f.Data, f.Format)
	return f, nil
}

// parse39794Info reads the image data format [0] and the optional image
// size block [7] of an ImageInformation2DBlock.
func parse39794Info(v []byte, f *FaceImage) error {
	const file = "DG2"
	objs, err := tlv.Children(v, 16)
	if err != nil {
		return malformedTLV(file, err)
	}
	format := find(objs, tagCtx0C)
	if format == nil {
		return malformed(file, "image information lacks the image data format")
	}
	if code, err := tlv.Decode(format.Value); err == nil && code.Tag == tagCtx0 {
		n, _ := berUint(code.Value)
		switch n {
		case 2:
			f.Format = ImageJPEG
		case 3, 4: // lossy, lossless
			f.Format = ImageJPEG2000
		}
	}
	if size := find(objs, tagCtx7C); size != nil {
		dims, err := tlv.Children(size.Value, 4)
		if err != nil {
			return malformedTLV(file, err)
		}
		w, h := find(dims, tagCtx0), find(dims, tagCtx1)
		var okW, okH bool
		if w != nil && h != nil {
			f.Width, okW = berUint(w.Value)
			f.Height, okH = berUint(h.Value)
		}
		if !okW || !okH || f.Width > 0xFFFF || f.Height > 0xFFFF {
			return malformed(file, "bad image size block")
		}
	}
	return nil
}
