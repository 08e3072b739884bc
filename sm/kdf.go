package sm

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
)

// KeyUse is the counter c of the key derivation function (9303-11 §9.7.1).
type KeyUse uint32

// Counters of 9303-11 §9.7.1.
const (
	KeyEnc  KeyUse = 1 // KSenc, Kenc
	KeyMAC  KeyUse = 2 // KSmac, Kmac
	KeyPACE KeyUse = 3 // Kπ, the PACE password key
)

// DeriveKey computes KDF(secret, use) of 9303-11 §9.7.1: the first keyLen
// bytes of H(secret ‖ c) with c a 32-bit big-endian counter. H is SHA-1 for
// TDES (16 bytes, 2-key 3DES Ka ‖ Kb, DES parity adjusted) and AES-128, and
// SHA-256 for AES-192 and AES-256.
func DeriveKey(s Suite, keyLen int, secret []byte, use KeyUse) ([]byte, error) {
	if !s.validKeyLen(keyLen) {
		return nil, fmt.Errorf("sm: derive key: %v key of %d bytes", s, keyLen)
	}
	var h hash.Hash
	if keyLen <= 16 {
		h = sha1.New()
	} else {
		h = sha256.New()
	}
	h.Write(secret)
	h.Write(binary.BigEndian.AppendUint32(nil, uint32(use)))
	sum := h.Sum(nil)
	key := append([]byte(nil), sum[:keyLen]...)
	clear(sum)
	if s == TDES {
		AdjustParity(key)
	}
	return key, nil
}

// AdjustParity sets the low bit of every byte of a DES key so that each
// byte has odd parity (FIPS 46-3 §3; 9303-11 §9.7.1 and Appendix D.1).
func AdjustParity(key []byte) {
	for i, b := range key {
		b &^= 1
		p := b ^ b>>4
		p ^= p >> 2
		p ^= p >> 1
		key[i] = b | ^p&1
	}
}
