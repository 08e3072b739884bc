package pace

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// cardAccessSeeds are encodings to start fuzzing from.
func cardAccessSeeds(t testing.TB) [][]byte {
	bp, _ := standardCurve(13)
	key, _ := NewChipKey(13, []byte{5})
	explicit := paceInfo(arcECDHGM, 2, 32)
	return [][]byte{
		EncodeCardAccess([]Info{paceInfo(arcECDHGM, 2, 13)}),
		EncodeCardAccess([]Info{paceInfo(arcECDHCAM, 2, 13), paceInfo(arcECDHIM, 4, 18), paceInfo(arcDHGM, 1, 0)}),
		EncodeSecurityInfos([]Info{explicit},
			securityInfo(explicit.Protocol[:10], algorithmID(oidECPublicKey, explicitEC(bp)), smallInt(32)),
			securityInfo(explicit.Protocol[:10], algorithmID(oidECPublicKey, testvectors.Hex(t, opensslP256))),
			key.PublicKeyInfo()),
		testvectors.Hex(t, "31143012060a04007f0007020204020202010202010d"),
		{0x31, 0x00},
	}
}

// FuzzParseCardAccess checks that ParseCardAccess never panics, returns nil
// with an error, and that the PACEInfos it finds encode and parse back to
// the same set.
func FuzzParseCardAccess(f *testing.F) {
	for _, s := range cardAccessSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseCardAccess(b)
		if err != nil {
			require.Nil(t, s, "result with an error")
			return
		}
		again, err := ParseCardAccess(EncodeCardAccess(s.PACE))
		require.NoError(t, err, "re-encoded infos do not parse")
		require.Equal(t, infoSet(s.PACE), infoSet(again.PACE), "round trip changed the infos")
		for _, i := range s.PACE {
			_ = i.String()
			_ = i.Supported()
		}
		Choose(s.PACE)
	})
}

// infoSet returns the sorted, deduplicated encodings of infos with their
// explicit domain parameters.
func infoSet(infos []Info) [][]byte {
	var out [][]byte
	for _, i := range infos {
		e := encodeInfo(i)
		if i.Domain != nil {
			e = append(e, i.Domain.Raw...)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, bytes.Compare)
	return slices.CompactFunc(out, bytes.Equal)
}

// FuzzGAResponse checks the decoder of dynamic authentication data (7C):
// no panic, a zero value with an error, and decode ∘ encode is stable for
// the tags 80–8A.
func FuzzGAResponse(f *testing.F) {
	f.Add(testvectors.Hex(f, "7c12801095a3a016522ee98d01e76cb6b98b42c3"))
	f.Add(testvectors.Hex(f, "7c0a86083abb9674bce93c08"))
	f.Add(testvectors.Hex(f, "7c1b8608917f37b5c0e6d8d1870f444554455354435643413030303033"))
	f.Add(testvectors.Hex(f, "7c00"))
	f.Add(testvectors.Hex(f, "7c80800100000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseAuthData(b)
		if err != nil {
			require.Zero(t, a.present, "values with an error")
			return
		}
		enc := a.encode()
		again, err := parseAuthData(enc)
		require.NoError(t, err, "re-encoded data does not parse")
		require.Equal(t, enc, again.encode(), "round trip changed the data")
		require.Equal(t, a.present, again.present, "round trip changed the data")
		for tag := tlv.Tag(0x80); tag <= 0x8A; tag++ {
			v1, ok1 := a.get(tag)
			v2, ok2 := again.get(tag)
			require.Equal(t, ok1, ok2, "tag %v changed", tag)
			// bytes.Equal: an empty value may come back nil.
			require.True(t, bytes.Equal(v1, v2), "tag %v changed: %x, then %x", tag, v1, v2)
		}
	})
}

// FuzzOpenResponse replaces one chip answer of a PACE run with fuzz data
// and checks that Open neither panics nor returns a Result with an error.
// It runs PACE-ECDH-CAM on P-192 (the cheapest curve) or DH-GM-1024.
func FuzzOpenResponse(f *testing.F) {
	f.Add(uint8(1), testvectors.Hex(f, "7c128010000000000000000000000000000000009000"))
	f.Add(uint8(2), testvectors.Hex(f, "7c03820104"+"9000"))
	f.Add(uint8(3), testvectors.Hex(f, "6a80"))
	f.Add(uint8(4), testvectors.Hex(f, "7c0a860800000000000000009000"))
	f.Add(uint8(0x83), testvectors.Hex(f, "7c0584030102039000"))
	f.Fuzz(func(t *testing.T, step uint8, resp []byte) {
		info := paceInfo(arcECDHCAM, 2, 8)
		if step&0x80 != 0 {
			info = paceInfo(arcDHGM, 2, 0)
		}
		card := newTestCard(t, combo{info: info})
		tamper := at(int(step&0x7F)%5, func([]byte, []byte) []byte { return resp })
		res, err := Open(context.Background(), &loopback{card: card, tamper: tamper}, MRZ([]byte(testMRZ)), info, nil)
		if err != nil {
			require.Nil(t, res, "result with error %v", err)
		} else {
			require.NotNil(t, res, "neither a result nor an error")
		}
	})
}
