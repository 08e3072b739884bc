package pki

import (
	"crypto"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// DataGroupHashes decodes an LDSSecurityObject, the content of EF.SOD
// (9303-10 §4.6.2.2): its hash algorithm and the hash of each data group
// by number. A data group number is read as an unsigned octet, as some
// issuers encode numbers of 0x80 and above in one octet that strict DER
// reads as negative.
func DataGroupHashes(content []byte) (crypto.Hash, map[int][]byte, error) {
	s := cryptobyte.String(content)
	var seq, hashes cryptobyte.String
	var version int64
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() || !seq.ReadASN1Int64WithTag(&version, cbasn1.INTEGER) {
		return 0, nil, fmt.Errorf("%w: LDSSecurityObject", ErrMalformed)
	}
	alg, err := readAlgorithm(&seq)
	if err != nil {
		return 0, nil, err
	}
	hash, err := hashByOID(alg)
	if err != nil {
		return 0, nil, err
	}
	if !seq.ReadASN1(&hashes, cbasn1.SEQUENCE) {
		return 0, nil, fmt.Errorf("%w: dataGroupHashValues", ErrMalformed)
	}
	out := map[int][]byte{}
	for !hashes.Empty() {
		var dg cryptobyte.String
		var num, value []byte
		if !hashes.ReadASN1(&dg, cbasn1.SEQUENCE) || !dg.ReadASN1Bytes(&num, cbasn1.INTEGER) ||
			!dg.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) || !dg.Empty() || len(num) != 1 {
			return 0, nil, fmt.Errorf("%w: DataGroupHash", ErrMalformed)
		}
		if _, dup := out[int(num[0])]; dup {
			return 0, nil, fmt.Errorf("%w: data group %d hashed twice", ErrMalformed, num[0])
		}
		if len(value) != hash.Size() {
			return 0, nil, fmt.Errorf("%w: hash of data group %d has %d octets", ErrMalformed, num[0], len(value))
		}
		out[int(num[0])] = value
	}
	return hash, out, nil
}
