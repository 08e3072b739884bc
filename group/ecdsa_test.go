package group

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	_ "crypto/sha1" // registers SHA-1 for crypto.Hash.New
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/hex"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		if err != nil {
			t.Fatal(err)
		}
		pubBytes, _ := priv.PublicKey.Bytes()
		pub, err := NewPublicKey(c, pubBytes)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hashes {
			t.Run(c.Name()+"/"+h.String(), func(t *testing.T) {
				d := digest(h, []byte("nfcbridge"))
				sig, err := ecdsa.SignASN1(rand.Reader, priv, d)
				if err != nil {
					t.Fatal(err)
				}
				if err := pub.VerifyASN1(d, sig); err != nil {
					t.Fatalf("DER: %v", err)
				}
				r, s := parseDER(t, sig)
				l := (c.n.BitLen() + 7) / 8
				plain := append(r.FillBytes(make([]byte, l)), s.FillBytes(make([]byte, l))...)
				if err := pub.VerifyPlain(d, plain); err != nil {
					t.Fatalf("plain: %v", err)
				}
				wrong := digest(h, []byte("nfcbridgf"))
				if err := pub.VerifyASN1(wrong, sig); !errors.Is(err, ErrSignature) {
					t.Fatalf("other message: %v", err)
				}
				if err := pub.Verify(d, new(big.Int).Add(r, big.NewInt(1)), s); !errors.Is(err, ErrSignature) {
					t.Fatalf("r+1: %v", err)
				}
				if err := pub.VerifyPlain(d, plain[1:]); !errors.Is(err, ErrSignature) {
					t.Fatalf("short plain: %v", err)
				}
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
	if err != nil {
		t.Fatal(err)
	}
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
		if err := pub.Verify(d, rs[0], rs[1]); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
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
		if err := pub.VerifyASN1(d, b); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
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
		if got := hashToInt(d, n); got.Cmp(want) != 0 {
			t.Errorf("hashToInt(%s) = %x, want %s", tc.digest, got, tc.want)
		}
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
	if err != nil {
		t.Fatal(err)
	}
	keys, err := os.ReadFile(filepath.Join("testdata", "wycheproof_ecdsa_brainpool.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var manifest []string
	for _, line := range strings.Split(string(keys), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			manifest = append(manifest, line)
		}
	}
	var v wycheproof
	if err := testvectors.Check(doc, manifest, &v); err != nil {
		t.Fatal(err)
	}
	shas := map[string]crypto.Hash{"SHA-224": crypto.SHA224, "SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}
	byName := map[string]*Curve{}
	for _, c := range Curves() {
		byName[c.Name()] = c
	}
	count := 0
	for _, g := range v.Groups {
		c, h := byName[g.Curve], shas[g.SHA]
		if c == nil || h == 0 {
			t.Fatalf("unknown curve %q or hash %q", g.Curve, g.SHA)
		}
		pub, err := NewPublicKey(c, g.Key)
		if err != nil {
			t.Fatalf("%s key: %v", g.Curve, err)
		}
		for _, tc := range g.Tests {
			err := pub.VerifyASN1(digest(h, tc.Msg), tc.Sig)
			switch tc.Result {
			case "valid":
				if err != nil {
					t.Errorf("%s tcId %d: %v", g.Curve, tc.ID, err)
				}
			case "invalid":
				if !errors.Is(err, ErrSignature) {
					t.Errorf("%s tcId %d: accepted (%v)", g.Curve, tc.ID, err)
				}
			default:
				t.Fatalf("%s tcId %d: unknown result %q", g.Curve, tc.ID, tc.Result)
			}
			count++
		}
	}
	if count < 20 {
		t.Fatalf("only %d vectors", count)
	}
}
