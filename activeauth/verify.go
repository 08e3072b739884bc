package activeauth

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	_ "crypto/sha1" // hashes of the 9796-2 trailers and ECDSA
	_ "crypto/sha256"
	_ "crypto/sha512"
	"fmt"
	"math/big"
	"strings"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/pki"
)

// Scheme is the signature scheme of an Active Authentication key.
type Scheme int

// Schemes (9303-11 §6.1.2).
const (
	ISO9796 Scheme = iota + 1 // RSA, ISO/IEC 9796-2 digital signature scheme 1
	ECDSA                     // ECDSA, plain (TR-03111) or X9.62 DER
)

// String returns "ISO/IEC 9796-2" or "ECDSA".
func (s Scheme) String() string {
	switch s {
	case ISO9796:
		return "ISO/IEC 9796-2"
	case ECDSA:
		return "ECDSA"
	}
	return fmt.Sprintf("Scheme(%d)", int(s))
}

// MarshalText returns the name.
func (s Scheme) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Algorithm is what a verified signature used.
type Algorithm struct {
	Scheme Scheme
	Hash   crypto.Hash
	// Key describes the key without its value: "RSA-1792",
	// "EC brainpoolP256r1".
	Key string
}

// String returns for example "ISO/IEC 9796-2 SHA-256 RSA-1792".
func (a Algorithm) String() string {
	if a.Hash == 0 { // not known: the signature did not verify
		return fmt.Sprintf("%v %s", a.Scheme, a.Key)
	}
	return fmt.Sprintf("%v %v %s", a.Scheme, a.Hash, a.Key)
}

// MarshalText returns [Algorithm.String].
func (a Algorithm) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what [Algorithm.String] writes, so that a result
// stored as JSON reads back.
func (a *Algorithm) UnmarshalText(b []byte) error {
	for _, scheme := range []Scheme{ISO9796, ECDSA} {
		rest, ok := strings.CutPrefix(string(b), scheme.String()+" ")
		if !ok {
			continue
		}
		for h := crypto.MD4; h <= crypto.BLAKE2b_512; h++ {
			if key, ok := strings.CutPrefix(rest, h.String()+" "); ok && h.Available() && key != "" {
				*a = Algorithm{Scheme: scheme, Hash: h, Key: key}
				return nil
			}
		}
		if rest != "" {
			*a = Algorithm{Scheme: scheme, Key: rest}
			return nil
		}
	}
	return fmt.Errorf("activeauth: %q is not an Active Authentication algorithm", b)
}

// ecdsaHashes are tried in turn when the hash of an ECDSA key is not known
// (see the package documentation).
var ecdsaHashes = []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512}

// Verify checks the chip's response to INTERNAL AUTHENTICATE with
// challenge against the DG15 key pub (9303-11 §6.1.2). For RSA the hash is
// the one the 9796-2 trailer names and the hash argument is ignored; for
// ECDSA it is hash, or every hash of the package documentation when hash
// is 0. It returns the algorithm that verified.
//
// Errors: [ErrSignature] when the signature does not verify, [ErrMalformed]
// when the response is not a signature of the key's size, [ErrUnsupported]
// for a key or hash this package does not implement.
func Verify(pub *pki.PublicKey, challenge, response []byte, hash crypto.Hash) (Algorithm, error) {
	switch {
	case pub == nil:
		return Algorithm{}, fmt.Errorf("%w: no key", ErrUnsupported)
	case pub.Type == pki.RSA && pub.RSA != nil:
		h, err := verifyRSA(pub.RSA, challenge, response)
		return Algorithm{Scheme: ISO9796, Hash: h, Key: pub.String()}, err
	case pub.Type == pki.EC && pub.EC != nil:
		h, err := verifyECDSA(pub.EC, challenge, response, hash)
		return Algorithm{Scheme: ECDSA, Hash: h, Key: pub.String()}, err
	}
	return Algorithm{}, fmt.Errorf("%w: key type %v", ErrUnsupported, pub.Type)
}

// verifyRSA opens the signature, recovers M1 and checks H = Hash(M1 ‖
// challenge) in constant time (ISO/IEC 9796-2:2010 §8 and §9; 9303-11
// §6.1.2).
func verifyRSA(pub *rsa.PublicKey, challenge, response []byte) (crypto.Hash, error) {
	k := (pub.N.BitLen() + 7) / 8
	if len(response) != k {
		return 0, fmt.Errorf("%w: response of %d bytes for a %d-byte modulus", ErrMalformed, len(response), k)
	}
	s := new(big.Int).SetBytes(response)
	if s.Sign() == 0 || s.Cmp(pub.N) >= 0 {
		return 0, fmt.Errorf("%w: signature not below the modulus", ErrMalformed)
	}
	m := s.Exp(s, big.NewInt(int64(pub.E)), pub.N)
	// The representative has bitlen(n) − 1 bits (9796-2 §8.1.2).
	size := (pub.N.BitLen() + 6) / 8
	if m.BitLen() > size*8 {
		return 0, ErrSignature
	}
	rec, err := Recover(m.FillBytes(make([]byte, size)))
	if err != nil {
		return 0, err
	}
	if !rec.Partial && !bytes.HasSuffix(rec.M1, challenge) {
		return rec.Hash, fmt.Errorf("%w: recovered message does not end with the challenge", ErrSignature)
	}
	h := rec.Hash.New()
	h.Write(rec.M1)
	if rec.Partial {
		h.Write(challenge)
	}
	if !hmac.Equal(h.Sum(nil), rec.Digest) {
		return rec.Hash, ErrSignature
	}
	return rec.Hash, nil
}

// Recovered is the content of an opened ISO/IEC 9796-2 scheme 1
// representative.
type Recovered struct {
	// Partial is set for partial message recovery: M = M1 ‖ M2 with M2,
	// here the challenge, not recovered.
	Partial bool
	// M1 is the recovered part of the message.
	M1 []byte
	// Digest is H in the representative, over M1 ‖ M2.
	Digest []byte
	// Hash is the hash function the trailer names.
	Hash crypto.Hash
	// Padding is the number of padding bytes between the header and M1.
	Padding int
	// Implicit is set for the one-byte trailer BC (SHA-1).
	Implicit bool
}

// trailerHash maps the hash identifiers of ISO/IEC 10118-3 in a two-byte
// trailer XX CC to hash functions.
var trailerHash = map[byte]crypto.Hash{
	0x33: crypto.SHA1,
	0x34: crypto.SHA256,
	0x35: crypto.SHA512,
	0x36: crypto.SHA384,
	0x38: crypto.SHA224,
}

// Recover opens an ISO/IEC 9796-2 scheme 1 representative, the RSA-opened
// signature as bitlen(n) − 1 bits rounded up to bytes (9796-2 §8.1.2,
// §9.3): the header 01, the more-data bit (1 = partial recovery), optional
// padding (4B or 6B, then BB…, ended by BA; none when the first byte is 4A
// or 6A), M1, the hash H and the trailer (BC for SHA-1, or XX CC). Errors
// wrap [ErrSignature], or [ErrUnsupported] for a hash function of
// ISO/IEC 10118-3 (identifiers 31–3F) that this package does not implement.
func Recover(block []byte) (Recovered, error) {
	if len(block) < 3 {
		return Recovered{}, fmt.Errorf("%w: representative of %d bytes", ErrSignature, len(block))
	}
	var r Recovered
	end := len(block)
	switch {
	case block[end-1] == 0xBC:
		r.Hash, r.Implicit, end = crypto.SHA1, true, end-1
	case block[end-1] == 0xCC:
		id := block[end-2]
		h, ok := trailerHash[id]
		switch {
		case !ok && id >= 0x31 && id <= 0x3F:
			// A hash function of ISO/IEC 10118-3 this package lacks.
			return Recovered{}, fmt.Errorf("%w: 9796-2 hash identifier %02X", ErrUnsupported, id)
		case !ok:
			// No hash function has this identifier: not a signature
			// with this key (a clone's answer opens to noise).
			return Recovered{}, fmt.Errorf("%w: 9796-2 hash identifier %02X", ErrSignature, id)
		}
		r.Hash, end = h, end-2
	default:
		return Recovered{}, fmt.Errorf("%w: no 9796-2 trailer", ErrSignature)
	}
	b0 := block[0]
	if b0&0xC0 != 0x40 {
		return Recovered{}, fmt.Errorf("%w: no 9796-2 header", ErrSignature)
	}
	r.Partial = b0&0x20 != 0
	start, err := skipPadding(block)
	if err != nil {
		return Recovered{}, err
	}
	r.Padding = start - 1
	hl := r.Hash.Size()
	if end-hl < start {
		return Recovered{}, fmt.Errorf("%w: representative too short for its hash", ErrSignature)
	}
	r.M1 = bytes.Clone(block[start : end-hl])
	r.Digest = bytes.Clone(block[end-hl : end])
	return r, nil
}

// skipPadding returns the index of M1: 1 after a header byte x6A or x4A,
// otherwise after the padding B…BA that a header byte xB starts.
func skipPadding(block []byte) (int, error) {
	if block[0]&0x1F == 0x0A {
		return 1, nil
	}
	if block[0]&0x1F != 0x0B {
		return 0, fmt.Errorf("%w: bad 9796-2 padding", ErrSignature)
	}
	for i := 1; i < len(block); i++ {
		switch block[i] {
		case 0xBB:
		case 0xBA:
			return i + 1, nil
		default:
			return 0, fmt.Errorf("%w: bad 9796-2 padding", ErrSignature)
		}
	}
	return 0, fmt.Errorf("%w: unterminated 9796-2 padding", ErrSignature)
}

// verifyECDSA checks a plain or DER ECDSA signature over the challenge.
func verifyECDSA(pub *group.PublicKey, challenge, response []byte, hash crypto.Hash) (crypto.Hash, error) {
	hashes := ecdsaHashes
	if hash != 0 {
		if !hash.Available() {
			return 0, fmt.Errorf("%w: hash %v", ErrUnsupported, hash)
		}
		hashes = []crypto.Hash{hash}
	}
	plain := len(response) == 2*orderLen(pub)
	if _, _, ok := parseDER(response); !plain && !ok {
		return 0, fmt.Errorf("%w: response is neither a plain nor a DER ECDSA signature", ErrMalformed)
	}
	var last error
	for _, h := range hashes {
		d := h.New()
		d.Write(challenge)
		digest := d.Sum(nil)
		var err error
		if plain {
			err = pub.VerifyPlain(digest, response)
		} else {
			err = pub.VerifyASN1(digest, response)
		}
		if err == nil {
			return h, nil
		}
		last = err
	}
	return hash, fmt.Errorf("%w: %w", ErrSignature, last)
}

// orderLen is the length of the curve order n in bytes, that of r and s in
// a plain signature.
func orderLen(pub *group.PublicKey) int {
	return (pub.Curve().Params().N.BitLen() + 7) / 8
}
