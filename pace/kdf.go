package pace

import (
	"encoding/asn1"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/sm"
)

// tokenLen is the length of an authentication token (9303-11 §4.4.3.4).
const tokenLen = 8

// maxNonce bounds the chip's nonce s: a multiple of the block size that is
// at least the key size (9303-11 §4.4.3.3); 64 bytes leaves room.
const maxNonce = 64

// sessionKeys derives KSenc = KDF(K, 1) and KSmac = KDF(K, 2) (9303-11
// §9.7.1, §9.7.4): SHA-1 for 3DES and AES-128, SHA-256 for AES-192 and
// AES-256. The send sequence counter starts at zero (§9.8.6.3, §9.8.7.3).
func sessionKeys(suite sm.Suite, keyLen int, secret []byte) (sm.Keys, error) {
	enc, err := sm.DeriveKey(suite, keyLen, secret, sm.KeyEnc)
	if err != nil {
		return sm.Keys{}, err
	}
	mac, err := sm.DeriveKey(suite, keyLen, secret, sm.KeyMAC)
	if err != nil {
		return sm.Keys{}, err
	}
	return sm.Keys{Suite: suite, Enc: enc, MAC: mac}, nil
}

// decryptNonce recovers s = D(K_π, z) in CBC mode with a zero IV (9303-11
// §4.4.3.3).
func decryptNonce(suite sm.Suite, kpi, z []byte) ([]byte, error) {
	bs := suite.BlockSize()
	if len(z) == 0 || len(z)%bs != 0 || len(z) > maxNonce {
		return nil, fmt.Errorf("%w: encrypted nonce of %d bytes", ErrMalformed, len(z))
	}
	return sm.DecryptCBC(suite, kpi, nil, z)
}

// nonceLen is the length of the nonce s a chip picks, and of the terminal's
// nonce t in IM: the smallest multiple of the block size at least as long
// as the key, counting 3DES keys as 128 bits (9303-11 §4.4.3.3 and
// §4.4.3.3.2): 16 bytes for 3DES and AES-128, 32 for AES-192 and AES-256.
func nonceLen(suite sm.Suite, keyLen int) int {
	bs := suite.BlockSize()
	return (keyLen + bs - 1) / bs * bs
}

// publicKeyObject returns the public key data object 7F49 { 06 OID, tag
// public value } that authentication tokens are computed over (9303-11
// §4.4.3.4, §9.4.5).
func publicKeyObject(oid asn1.ObjectIdentifier, tag tlv.Tag, pub []byte) []byte {
	body := derOID(oid)
	body = tlv.Append(body, tag, pub)
	return tlv.Encode(0x7F49, body)
}

// token computes an authentication token over a public key data object
// (9303-11 §4.4.3.4): AES-CMAC truncated to 8 bytes over the unpadded data,
// or for 3DES the ISO/IEC 9797-1 MAC algorithm 3 with padding method 2.
func token(suite sm.Suite, kmac, data []byte) ([]byte, error) {
	if suite == sm.TDES {
		return sm.Checksum(sm.TDES, kmac, data)
	}
	mac, err := sm.CMAC(kmac, data)
	if err != nil {
		return nil, fmt.Errorf("pace: token: %w", err)
	}
	return mac[:tokenLen], nil
}
