package pace

import (
	"bytes"
	"slices"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
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
			body := appendOID(nil, i.Protocol[:len(i.Protocol)-1])
			body = append(body, i.Domain.Raw...)
			if i.ParameterID >= 0 {
				body = appendSmallInt(body, i.ParameterID)
			}
			elems = append(elems, tlv.Encode(tagSequence, body))
		}
	}
	for _, e := range extra {
		elems = append(elems, bytes.Clone(e))
	}
	slices.SortFunc(elems, bytes.Compare)
	elems = slices.CompactFunc(elems, bytes.Equal)
	return tlv.Encode(tagSet, bytes.Join(elems, nil))
}

// encodeInfo returns the DER PACEInfo, or nil if the OID does not encode.
func encodeInfo(i Info) []byte {
	body := appendOID(nil, i.Protocol)
	if len(body) == 0 {
		return nil
	}
	body = appendSmallInt(body, max(i.Version, 0))
	if i.ParameterID >= 0 {
		body = appendSmallInt(body, i.ParameterID)
	}
	return tlv.Encode(tagSequence, body)
}
