package sm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// CMAC returns the 16-byte AES-CMAC of msg under an AES key of 16, 24 or 32
// bytes (RFC 4493, NIST SP 800-38B), without any padding of its own. PACE
// authentication tokens are its first 8 bytes over the unpadded public key
// data object (9303-11 §4.4.3.4); secure messaging uses [Checksum], which
// pads first.
func CMAC(key, msg []byte) ([]byte, error) {
	if !AES.validKeyLen(len(key)) {
		return nil, fmt.Errorf("sm: AES key of %d bytes", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cmac(b, msg), nil
}

// cmac returns the full-length CMAC of msg under the 128-bit block cipher b
// (RFC 4493, NIST SP 800-38B). The only public Go module for it dates from
// 2016, and it is this short.
func cmac(b cipher.Block, msg []byte) []byte {
	const bs = 16
	var k1, k2, x, last [bs]byte
	b.Encrypt(k1[:], k1[:]) // L = E(0)
	k1 = dbl(k1)
	k2 = dbl(k1)
	n := (len(msg) + bs - 1) / bs
	complete := n > 0 && len(msg)%bs == 0
	if n == 0 {
		n = 1
	}
	for i := range n - 1 {
		subtle.XORBytes(x[:], x[:], msg[i*bs:(i+1)*bs])
		b.Encrypt(x[:], x[:])
	}
	tail := msg[(n-1)*bs:]
	copy(last[:], tail)
	if complete {
		subtle.XORBytes(last[:], last[:], k1[:])
	} else {
		last[len(tail)] = 0x80
		subtle.XORBytes(last[:], last[:], k2[:])
	}
	subtle.XORBytes(x[:], x[:], last[:])
	b.Encrypt(x[:], x[:])
	return x[:]
}

// dbl multiplies by x in GF(2^128) (RFC 4493 §2.3), in constant time.
func dbl(in [16]byte) [16]byte {
	var out [16]byte
	for i := range 15 {
		out[i] = in[i]<<1 | in[i+1]>>7
	}
	out[15] = in[15]<<1 ^ 0x87&-(in[0]>>7)
	return out
}
