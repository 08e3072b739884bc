package pace

import (
	"bytes"
	"slices"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// EncodeCardAccess returns EF.CardAccess content announcing infos (9303-11
// §9.2.11), for a virtual chip: the DER SET OF their PACEInfos and, for
// infos with explicit Domain parameters, the matching
// PACEDomainParameterInfos.
func EncodeCardAccess(infos []Info) []byte {
	return EncodeSecurityInfos(infos)
}

// EncodeSecurityInfos returns a DER SecurityInfos with the PACEInfos (and
// PACEDomainParameterInfos) of infos followed by further DER SecurityInfo
// encodings, such as [ChipKey.PublicKeyInfo], for EF.CardSecurity or DG14.
// The elements are sorted as DER requires of a SET OF, and duplicates are
// dropped. An Info whose Protocol is not a valid OID is left out.
func EncodeSecurityInfos(infos []Info, extra ...[]byte) []byte {
	var elems [][]byte
	for _, i := range infos {
		if e := encodeInfo(i); e != nil {
			elems = append(elems, e)
		}
		if i.Domain != nil && len(i.Protocol) > 0 {
			// PACEDomainParameterInfo: id-PACE-{DH,ECDH}-{GM,IM,CAM}
			// without the cipher arc (9303-11 §9.2.1).
			var b cryptobyte.Builder
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(i.Protocol[:len(i.Protocol)-1])
				b.AddBytes(i.Domain.Raw)
				if i.ParameterID >= 0 {
					b.AddASN1Int64(int64(i.ParameterID))
				}
			})
			if e, err := b.Bytes(); err == nil {
				elems = append(elems, e)
			}
		}
	}
	for _, e := range extra {
		elems = append(elems, bytes.Clone(e))
	}
	slices.SortFunc(elems, bytes.Compare)
	elems = slices.CompactFunc(elems, bytes.Equal)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(bytes.Join(elems, nil)) })
	return b.BytesOrPanic() // cannot fail: the length fits
}

// encodeInfo returns the DER PACEInfo, or nil if the OID does not encode.
func encodeInfo(i Info) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(i.Protocol)
		b.AddASN1Int64(int64(max(i.Version, 0)))
		if i.ParameterID >= 0 {
			b.AddASN1Int64(int64(i.ParameterID))
		}
	})
	e, err := b.Bytes()
	if err != nil {
		return nil
	}
	return e
}
