package pace

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ChipKey is a chip's static Chip Authentication key pair on a standardized
// curve, which a virtual chip needs for PACE-CAM (9303-11 §4.4.3.5, §6.2).
// ChipKey has no String method; it logs and formats as "redacted".
type ChipKey struct {
	c *curve
	d *big.Int
}

// NewChipKey returns the key with the big-endian private scalar d on the
// curve with the standardized parameter ID (8–18). The error never holds d.
func NewChipKey(parameterID int, d []byte) (*ChipKey, error) {
	c, ok := standardCurve(parameterID)
	if !ok {
		return nil, fmt.Errorf("%w: chip key on domain parameters %d", ErrNotSupported, parameterID)
	}
	k := new(big.Int).SetBytes(d)
	if k.Sign() == 0 || k.Cmp(c.n) >= 0 {
		return nil, fmt.Errorf("pace: chip key: private scalar out of range")
	}
	return &ChipKey{c: c, d: k}, nil
}

// GenerateChipKey returns a new random key on the curve with the
// standardized parameter ID. A nil r means crypto/rand.Reader.
func GenerateChipKey(parameterID int, r io.Reader) (*ChipKey, error) {
	c, ok := standardCurve(parameterID)
	if !ok {
		return nil, fmt.Errorf("%w: chip key on domain parameters %d", ErrNotSupported, parameterID)
	}
	if r == nil {
		r = rand.Reader
	}
	d, err := randScalar(r, c.n)
	if err != nil {
		return nil, fmt.Errorf("pace: generate chip key: %w", err)
	}
	return &ChipKey{c: c, d: d}, nil
}

// LogValue keeps the key out of structured logs.
func (ChipKey) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the private scalar.
func (ChipKey) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// ParameterID returns the standardized ID of the key's curve.
func (k *ChipKey) ParameterID() int { return k.c.id }

// PublicKey returns the uncompressed public point PK_IC = d·G.
func (k *ChipKey) PublicKey() []byte { return k.c.Marshal(k.c.ScalarMult(k.c.g, k.d)) }

// PublicKeyInfo returns the DER ChipAuthenticationPublicKeyInfo (9303-11
// §9.2.6) for EF.CardSecurity and DG14: id-PK-ECDH, a SubjectPublicKeyInfo
// with standardizedDomainParameters, and keyId equal to the parameter ID,
// as PACE-CAM requires (§9.2.1).
func (k *ChipKey) PublicKeyInfo() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(append(oidPK[:len(oidPK):len(oidPK)], 2)) // id-PK-ECDH
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			addStandardDomain(b, k.c.id)
			b.AddASN1BitString(k.PublicKey())
		})
		b.AddASN1Int64(int64(k.c.id))
	})
	return b.BytesOrPanic() // cannot fail: constant OIDs, small integers

}

// chipAuthData computes CA_IC = SK_IC⁻¹ · SK_Map,IC mod n, encoded with the
// length of n (FE2OS; 9303-11 §4.4.3.5.1, §4.4.5.6).
func (k *ChipKey) chipAuthData(skMap *big.Int) []byte {
	inv := new(big.Int).ModInverse(k.d, k.c.n)
	ca := inv.Mul(inv, skMap)
	ca.Mod(ca, k.c.n)
	return ca.FillBytes(make([]byte, (k.c.n.BitLen()+7)/8))
}
