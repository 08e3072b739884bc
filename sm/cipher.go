package sm

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
	"fmt"
)

// macLen is the length of the cryptographic checksum in DO'8E'.
const macLen = 8

// blockCipher returns the encryption cipher for key: 2-key 3DES (K1 ‖ K2 ‖
// K1) or AES.
func blockCipher(s Suite, key []byte) (cipher.Block, error) {
	if !s.validKeyLen(len(key)) {
		return nil, fmt.Errorf("sm: %v key of %d bytes", s, len(key))
	}
	if s == AES {
		return aes.NewCipher(key)
	}
	var k [24]byte
	defer clear(k[:])
	copy(k[:], key)
	copy(k[16:], key[:8])
	return des.NewTripleDESCipher(k[:])
}

// EncryptCBC encrypts block-aligned plaintext in CBC mode without padding.
// A nil iv means zero, which is what 3DES secure messaging and BAC use
// (9303-11 §9.8.6.1, §4.3.3).
func EncryptCBC(s Suite, key, iv, plaintext []byte) ([]byte, error) {
	return cbc(s, key, iv, plaintext, true)
}

// DecryptCBC decrypts block-aligned ciphertext in CBC mode and leaves any
// padding in place. A nil iv means zero.
func DecryptCBC(s Suite, key, iv, ciphertext []byte) ([]byte, error) {
	return cbc(s, key, iv, ciphertext, false)
}

func cbc(s Suite, key, iv, in []byte, encrypt bool) ([]byte, error) {
	b, err := blockCipher(s, key)
	if err != nil {
		return nil, err
	}
	bs := b.BlockSize()
	if len(in)%bs != 0 {
		return nil, fmt.Errorf("sm: CBC input of %d bytes is not block aligned", len(in))
	}
	if iv == nil {
		iv = make([]byte, bs)
	} else if len(iv) != bs {
		return nil, fmt.Errorf("sm: IV of %d bytes, want %d", len(iv), bs)
	}
	out := make([]byte, len(in))
	if encrypt {
		cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, in)
	} else {
		cipher.NewCBCDecrypter(b, iv).CryptBlocks(out, in)
	}
	return out, nil
}

// Checksum pads msg with ISO/IEC 9797-1 method 2 and returns its 8-byte
// MAC: ISO/IEC 9797-1 MAC algorithm 3 under a 16-byte key for TDES, AES-CMAC
// truncated to 8 bytes for AES (9303-11 §9.8.6.2, §9.8.7.2). It is the MAC
// of secure messaging and of BAC's EXTERNAL AUTHENTICATE.
func Checksum(s Suite, key, msg []byte) ([]byte, error) {
	if !s.validKeyLen(len(key)) {
		return nil, fmt.Errorf("sm: %v MAC key of %d bytes", s, len(key))
	}
	padded := Pad(msg, s.BlockSize())
	if s == AES {
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cmac(b, padded)[:macLen], nil
	}
	ka, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, err
	}
	kb, err := des.NewCipher(key[8:16])
	if err != nil {
		return nil, err
	}
	return retailMAC(ka, kb, padded), nil
}

// retailMAC is ISO/IEC 9797-1 MAC algorithm 3 over block-aligned msg: DES-CBC
// under Ka, then the last block decrypted under Kb and encrypted under Ka.
func retailMAC(ka, kb cipher.Block, msg []byte) []byte {
	var h [8]byte
	for i := 0; i+8 <= len(msg); i += 8 {
		subtle.XORBytes(h[:], h[:], msg[i:i+8])
		ka.Encrypt(h[:], h[:])
	}
	kb.Decrypt(h[:], h[:])
	ka.Encrypt(h[:], h[:])
	return h[:]
}

// Pad returns a copy of b padded with ISO/IEC 9797-1 padding method 2
// (9303-11 §9.8.6.2): 0x80, then zeros up to a multiple of blockSize. It
// always adds at least one byte, a whole block when b is aligned.
func Pad(b []byte, blockSize int) []byte {
	out := make([]byte, paddedLen(len(b), blockSize))
	copy(out, b)
	out[len(b)] = 0x80
	return out
}

// Unpad strips ISO/IEC 9797-1 padding method 2 of at most one block of
// blockSize bytes and returns b without it (a subslice of b). It fails,
// wrapping [ErrMalformed], when b does not end in 0x80 and at most
// blockSize−1 zeros. It is not constant time: call it only on data whose
// MAC has verified, or on a value whose padding is no secret.
func Unpad(b []byte, blockSize int) ([]byte, error) {
	i := len(b) - 1
	for i >= 0 && len(b)-i <= blockSize && b[i] == 0 {
		i--
	}
	if i < 0 || len(b)-i > blockSize || b[i] != 0x80 {
		return nil, fmt.Errorf("%w: bad padding", ErrMalformed)
	}
	return b[:i], nil
}

// paddedLen is the length of n bytes after method 2 padding.
func paddedLen(n, bs int) int { return (n/bs + 1) * bs }
