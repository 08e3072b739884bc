package mrtd

import (
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/pace"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// errCardSecurity wraps the parse errors of EF.CardSecurity.
var errCardSecurity = errors.New("mrtd: EF.CardSecurity is not a SignedData of SecurityInfos")

// cardSecurityInfos returns the SecurityInfos that EF.CardSecurity signs
// (9303-11 §9.2.11): the eContent of a CMS SignedData (RFC 5652 §5.1,
// §5.2), ContentInfo { signedData, [0] SignedData { version,
// digestAlgorithms, encapContentInfo { eContentType, [0] OCTET STRING }, … } }.
// The signature is not checked here: passive authentication does that.
func cardSecurityInfos(b []byte) (*pace.SecurityInfos, error) {
	in := cryptobyte.String(b)
	var ci, sd, encap, content cryptobyte.String
	var ctype, etype cryptobyte.String
	var version int64
	ok := in.ReadASN1(&ci, cbasn1.SEQUENCE) &&
		ci.ReadASN1(&ctype, cbasn1.OBJECT_IDENTIFIER) &&
		ci.ReadASN1(&sd, cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		sd.ReadASN1(&sd, cbasn1.SEQUENCE) &&
		sd.ReadASN1Integer(&version) &&
		sd.SkipASN1(cbasn1.SET) &&
		sd.ReadASN1(&encap, cbasn1.SEQUENCE) &&
		encap.ReadASN1(&etype, cbasn1.OBJECT_IDENTIFIER) &&
		encap.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		content.ReadASN1(&content, cbasn1.OCTET_STRING)
	if !ok {
		return nil, errCardSecurity
	}
	infos, err := pace.ParseSecurityInfos(content)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCardSecurity, err)
	}
	return infos, nil
}
