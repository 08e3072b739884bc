package vchip

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha1" // the hashes of the 9796-2 trailers and ECDSA
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// ErrAAKey is wrapped by the errors about an [AAKey]; they never hold the
// key.
var ErrAAKey = errors.New("vchip: invalid active authentication key")

// AAKey is a chip's Active Authentication key pair (9303-11 §6.1), whose
// public key DG15 holds: RSA, signing with ISO/IEC 9796-2 digital
// signature scheme 1, or ECDSA on a standardized curve, signing in the
// plain format of BSI TR-03111 §5.2.1.
//
// AAKey has no String method; it logs and formats as "redacted".
type AAKey struct {
	// RSA is the RSA key; nil for an EC key.
	RSA *rsa.PrivateKey
	// ParameterID is the standardized domain parameter ID (8–18) of an EC
	// key.
	ParameterID int
	// Private is the private scalar of an EC key, big-endian.
	Private []byte
	// Hash is the hash of the signature: SHA-1 (9796-2 trailer BC) or
	// SHA-224 to SHA-512 (trailer XX CC) for RSA, the ECDSA hash for EC,
	// which DG14's ActiveAuthenticationInfo names. Zero means SHA-1 for
	// RSA and SHA-256 for EC.
	Hash crypto.Hash
}

// LogValue keeps the key out of structured logs.
func (AAKey) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb.
func (AAKey) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// GenerateRSAAAKey returns a new RSA key of the given size (at least 1024
// bits) signing with hash. A nil r means crypto/rand.Reader.
func GenerateRSAAAKey(bits int, hash crypto.Hash, r io.Reader) (*AAKey, error) {
	if r == nil {
		r = rand.Reader
	}
	if _, ok := trailerID[hash]; !ok && hash != 0 && hash != crypto.SHA1 {
		return nil, fmt.Errorf("%w: no 9796-2 trailer for %v", ErrAAKey, hash)
	}
	k, err := rsa.GenerateKey(r, bits)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAAKey, err)
	}
	return &AAKey{RSA: k, Hash: hash}, nil
}

// GenerateECAAKey returns a new ECDSA key on the curve with the
// standardized parameter ID (8–18) signing with hash. A nil r means
// crypto/rand.Reader.
func GenerateECAAKey(parameterID int, hash crypto.Hash, r io.Reader) (*AAKey, error) {
	c, ok := group.CurveByID(parameterID)
	if !ok {
		return nil, fmt.Errorf("%w: domain parameters %d are not a standardized curve", ErrAAKey, parameterID)
	}
	d, err := group.RandomScalar(r, c.Params().N)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAAKey, err)
	}
	return &AAKey{ParameterID: parameterID, Private: d.Bytes(), Hash: hash}, nil
}

// hash returns the signature hash, with the defaults of [AAKey.Hash].
func (k *AAKey) hash() crypto.Hash {
	switch {
	case k.Hash != 0:
		return k.Hash
	case k.RSA != nil:
		return crypto.SHA1
	}
	return crypto.SHA256
}

// ec returns the curve and scalar of an EC key.
func (k *AAKey) ec() (*group.Curve, *big.Int, error) {
	c, ok := group.CurveByID(k.ParameterID)
	if !ok {
		return nil, nil, fmt.Errorf("%w: domain parameters %d are not a standardized curve", ErrAAKey, k.ParameterID)
	}
	d := new(big.Int).SetBytes(k.Private)
	if d.Sign() == 0 || d.Cmp(c.Params().N) >= 0 {
		return nil, nil, fmt.Errorf("%w: private scalar out of range", ErrAAKey)
	}
	return c, d, nil
}

// check validates the key.
func (k *AAKey) check() error {
	h := k.hash()
	if !h.Available() {
		return fmt.Errorf("%w: hash %v", ErrAAKey, h)
	}
	if k.RSA != nil {
		if _, ok := trailerID[h]; !ok && h != crypto.SHA1 {
			return fmt.Errorf("%w: no 9796-2 trailer for %v", ErrAAKey, h)
		}
		if k.RSA.N.BitLen() < 1024 {
			return fmt.Errorf("%w: RSA key below 1024 bits", ErrAAKey)
		}
		return nil
	}
	_, _, err := k.ec()
	return err
}

// oidECPublicKey is id-ecPublicKey (RFC 5480 §2.1.1).
var oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}

// DG15 returns EF.DG15 (9303-10 §4.7.15): the public key as a
// SubjectPublicKeyInfo in tag 6F, an EC key with its named curve.
func (k *AAKey) DG15() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	if k.RSA != nil {
		spki, err := x509.MarshalPKIXPublicKey(&k.RSA.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAAKey, err)
		}
		return tlv.Encode(0x6F, spki), nil
	}
	c, d, _ := k.ec()
	alg, err := derSeq(oidECPublicKey, c.OID())
	if err != nil {
		return nil, err
	}
	pt := c.Marshal(c.ScalarBaseMult(d))
	spki := tlv.Encode(0x30, append(alg, tlv.Encode(0x03, append([]byte{0}, pt...))...))
	return tlv.Encode(0x6F, spki), nil
}

// ecdsaPlainOIDs are the ecdsa-plain-SHA* signature algorithms of BSI
// TR-03111 §5.2.1, which an ActiveAuthenticationInfo names.
var ecdsaPlainOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 1},
	crypto.SHA224: {0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 2},
	crypto.SHA256: {0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 3},
	crypto.SHA384: {0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 4},
	crypto.SHA512: {0, 4, 0, 127, 0, 7, 1, 1, 4, 1, 5},
}

// oidAA is id-icao-mrtd-security-aaProtocolObject (9303-11 §9.2).
var oidAA = asn1.ObjectIdentifier{2, 23, 136, 1, 1, 5}

// Info returns the DER ActiveAuthenticationInfo (9303-11 §9.2) that DG14
// carries for an EC key, naming the signature algorithm; nil for RSA,
// whose 9796-2 trailer names the hash.
func (k *AAKey) Info() ([]byte, error) {
	if k.RSA != nil {
		return nil, nil
	}
	oid, ok := ecdsaPlainOIDs[k.hash()]
	if !ok {
		return nil, fmt.Errorf("%w: hash %v", ErrAAKey, k.hash())
	}
	return derSeq(oidAA, 1, oid)
}

// trailerID maps hashes to the ISO/IEC 10118-3 identifiers of a two-byte
// 9796-2 trailer XX CC; SHA-1 uses the one-byte trailer BC.
var trailerID = map[crypto.Hash]byte{crypto.SHA256: 0x34, crypto.SHA512: 0x35, crypto.SHA384: 0x36, crypto.SHA224: 0x38}

// sign signs the challenge as a chip answers INTERNAL AUTHENTICATE
// (9303-11 §6.1.2), with nonce bytes from r.
func (k *AAKey) sign(challenge []byte, r io.Reader) ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, err
	}
	if k.RSA != nil {
		return k.sign9796(challenge, r)
	}
	return k.signECDSA(challenge, r)
}

// sign9796 signs M = M1 ‖ challenge with ISO/IEC 9796-2 scheme 1 and
// partial message recovery: M1 is random and fills the representative,
// 6A ‖ M1 ‖ H(M1 ‖ challenge) ‖ trailer, of bitlen(n) − 1 bits.
func (k *AAKey) sign9796(challenge []byte, r io.Reader) ([]byte, error) {
	h := k.hash()
	trailer := []byte{0xBC}
	if h != crypto.SHA1 {
		trailer = []byte{trailerID[h], 0xCC}
	}
	size := (k.RSA.N.BitLen() + 6) / 8
	m1 := make([]byte, size-1-h.Size()-len(trailer))
	if _, err := io.ReadFull(r, m1); err != nil {
		return nil, fmt.Errorf("%w: random source: %w", ErrAAKey, err)
	}
	d := h.New()
	d.Write(m1)
	d.Write(challenge)
	block := append([]byte{0x6A}, m1...)
	block = append(block, d.Sum(nil)...)
	block = append(block, trailer...)
	m := new(big.Int).SetBytes(block)
	s, err := rsaPrivate(k.RSA, m)
	if err != nil {
		return nil, err
	}
	return s.FillBytes(make([]byte, (k.RSA.N.BitLen()+7)/8)), nil
}

// rsaPrivate computes m^d mod n, the raw RSA operation that 9796-2 pads
// for itself, and checks the result with the public exponent.
func rsaPrivate(k *rsa.PrivateKey, m *big.Int) (*big.Int, error) {
	s := new(big.Int).Exp(m, k.D, k.N)
	if new(big.Int).Exp(s, big.NewInt(int64(k.E)), k.N).Cmp(m) != 0 {
		return nil, fmt.Errorf("%w: RSA key inconsistent", ErrAAKey)
	}
	return s, nil
}

// signECDSA signs H(challenge) with ECDSA (SEC 1 §4.1.3) and encodes r ‖ s
// with the length of n (TR-03111 §5.2.1).
func (k *AAKey) signECDSA(challenge []byte, rnd io.Reader) ([]byte, error) {
	c, d, err := k.ec()
	if err != nil {
		return nil, err
	}
	h := k.hash().New()
	h.Write(challenge)
	digest := h.Sum(nil)
	n := c.Params().N
	z := new(big.Int).SetBytes(digest)
	if excess := len(digest)*8 - n.BitLen(); excess > 0 {
		z.Rsh(z, uint(excess))
	}
	l := (n.BitLen() + 7) / 8
	for range 64 {
		kk, err := group.RandomScalar(rnd, n)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrAAKey, err)
		}
		r := new(big.Int).Mod(c.ScalarBaseMult(kk).X, n)
		if r.Sign() == 0 {
			continue
		}
		s := new(big.Int).Mul(r, d)
		s.Add(s, z).Mul(s, new(big.Int).ModInverse(kk, n)).Mod(s, n)
		if s.Sign() == 0 {
			continue
		}
		return append(r.FillBytes(make([]byte, l)), s.FillBytes(make([]byte, l))...), nil
	}
	return nil, fmt.Errorf("%w: no signature after 64 tries", ErrAAKey)
}
