package activeauth

import (
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

// parseDER decodes an Ecdsa-Sig-Value SEQUENCE { r, s } (RFC 3279 §2.2.3).
func parseDER(b []byte) (r, s *big.Int, ok bool) {
	r, s = new(big.Int), new(big.Int)
	in := cryptobyte.String(b)
	var seq cryptobyte.String
	ok = in.ReadASN1(&seq, asn1.SEQUENCE) && in.Empty() &&
		seq.ReadASN1Integer(r) && seq.ReadASN1Integer(s) && seq.Empty()
	return r, s, ok
}
