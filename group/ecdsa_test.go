package group

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	_ "crypto/sha1" // registers SHA-1 for crypto.Hash.New
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/hex"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

var hashes = []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512}

func digest(h crypto.Hash, msg []byte) []byte {
	d := h.New()
	d.Write(msg)
	return d.Sum(nil)
}

// TestECDSAAgainstStdlib verifies signatures made by crypto/ecdsa on the
// NIST curves, with every hash (shorter and longer than n, so truncation is
// exercised), in DER and plain form, and checks that a changed message, r
// or s is refused.
func TestECDSAAgainstStdlib(t *testing.T) {
	for id, e := range nistCurves {
		c, _ := CurveByID(id)
		priv, err := ecdsa.GenerateKey(e, rand.Reader)
		require.NoError(t, err)
		pubBytes, _ := priv.PublicKey.Bytes()
		pub, err := NewPublicKey(c, pubBytes)
		require.NoError(t, err)
		for _, h := range hashes {
			t.Run(c.Name()+"/"+h.String(), func(t *testing.T) {
				d := digest(h, []byte("nfcbridge"))
				sig, err := ecdsa.SignASN1(rand.Reader, priv, d)
				require.NoError(t, err)
				require.NoError(t, pub.VerifyASN1(d, sig), "DER")
				r, s := parseDER(t, sig)
				l := (c.n.BitLen() + 7) / 8
				plain := append(r.FillBytes(make([]byte, l)), s.FillBytes(make([]byte, l))...)
				require.NoError(t, pub.VerifyPlain(d, plain), "plain")
				wrong := digest(h, []byte("nfcbridgf"))
				require.ErrorIs(t, pub.VerifyASN1(wrong, sig), ErrSignature, "other message")
				require.ErrorIs(t, pub.Verify(d, new(big.Int).Add(r, big.NewInt(1)), s), ErrSignature, "r+1")
				require.ErrorIs(t, pub.VerifyPlain(d, plain[1:]), ErrSignature, "short plain")
			})
		}
	}
}

func parseDER(t *testing.T, sig []byte) (r, s *big.Int) {
	t.Helper()
	r, s = new(big.Int), new(big.Int)
	// SEQUENCE { INTEGER r, INTEGER s } with short or 0x81 lengths.
	rest := sig[2:]
	if sig[1] == 0x81 {
		rest = sig[3:]
	}
	rl := int(rest[1])
	r.SetBytes(rest[2 : 2+rl])
	rest = rest[2+rl:]
	s.SetBytes(rest[2 : 2+int(rest[1])])
	return r, s
}

// TestECDSARange checks the range checks of SEC 1 §4.1.4 step 1 and the
// strict DER decoding, with values that a sloppy verifier might accept.
func TestECDSARange(t *testing.T) {
	c, _ := CurveByID(13)
	pub, err := NewPublicKey(c, c.Marshal(c.g))
	require.NoError(t, err)
	d := digest(crypto.SHA256, nil)
	n := c.n
	for name, rs := range map[string][2]*big.Int{
		"r = 0":  {big.NewInt(0), big.NewInt(1)},
		"s = 0":  {big.NewInt(1), big.NewInt(0)},
		"r = n":  {n, big.NewInt(1)},
		"s = n":  {big.NewInt(1), n},
		"r < 0":  {big.NewInt(-1), big.NewInt(1)},
		"s = -n": {big.NewInt(1), new(big.Int).Neg(n)},
	} {
		assert.ErrorIs(t, pub.Verify(d, rs[0], rs[1]), ErrSignature, name)
	}
	for name, sig := range map[string]string{
		"empty":         "",
		"no sequence":   "020101020101",
		"trailing data": "3006020101020101" + "00",
		"three ints":    "3009020101020101020101",
		"long length":   "308106020101020101",
		"padded int":    "300702020001020101",
	} {
		b, _ := hex.DecodeString(sig)
		assert.ErrorIs(t, pub.VerifyASN1(d, b), ErrSignature, name)
	}
}

func TestHashToInt(t *testing.T) {
	n := big.NewInt(0x1_0000) // 17 bits
	for _, tc := range []struct{ digest, want string }{
		{"01", "01"},
		{"ffff", "ffff"},
		{"ffffff", "1ffff"}, // 24 bits → leftmost 17
		{"80000000", "10000"},
	} {
		d, _ := hex.DecodeString(tc.digest)
		want, _ := new(big.Int).SetString(tc.want, 16)
		assert.Equal(t, want.Text(16), hashToInt(d, n).Text(16), "hashToInt(%s)", tc.digest)
	}
}

// wycheproof is group/testdata/wycheproof_ecdsa_brainpool.json.
type wycheproof struct {
	Source string `json:"source"`
	Groups []struct {
		Curve string               `json:"curve"`
		SHA   string               `json:"sha"`
		Key   testvectors.HexBytes `json:"key"`
		Tests []struct {
			ID     int                  `json:"tcId"`
			Msg    testvectors.HexBytes `json:"msg"`
			Sig    testvectors.HexBytes `json:"sig"`
			Result string               `json:"result"`
		} `json:"tests"`
	} `json:"groups"`
}

// TestWycheproofBrainpool runs published brainpool ECDSA vectors, the
// check on curves crypto/ecdsa does not have.
func TestWycheproofBrainpool(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("testdata", "wycheproof_ecdsa_brainpool.json"))
	require.NoError(t, err)
	keys, err := os.ReadFile(filepath.Join("testdata", "wycheproof_ecdsa_brainpool.keys"))
	require.NoError(t, err)
	var manifest []string
	for _, line := range strings.Split(string(keys), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			manifest = append(manifest, line)
		}
	}
	var v wycheproof
	require.NoError(t, testvectors.Check(doc, manifest, &v))
	shas := map[string]crypto.Hash{"SHA-224": crypto.SHA224, "SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}
	byName := map[string]*Curve{}
	for _, c := range Curves() {
		byName[c.Name()] = c
	}
	count := 0
	for _, g := range v.Groups {
		c, h := byName[g.Curve], shas[g.SHA]
		require.NotNil(t, c, "unknown curve %q", g.Curve)
		require.NotZero(t, h, "unknown hash %q", g.SHA)
		pub, err := NewPublicKey(c, g.Key)
		require.NoError(t, err, "%s key", g.Curve)
		for _, tc := range g.Tests {
			err := pub.VerifyASN1(digest(h, tc.Msg), tc.Sig)
			switch tc.Result {
			case "valid":
				assert.NoError(t, err, "%s tcId %d", g.Curve, tc.ID)
			case "invalid":
				assert.ErrorIs(t, err, ErrSignature, "%s tcId %d: accepted", g.Curve, tc.ID)
			default:
				require.Failf(t, "unknown result", "%s tcId %d: %q", g.Curve, tc.ID, tc.Result)
			}
			count++
		}
	}
	require.GreaterOrEqual(t, count, 20, "only %d vectors", count)
}
