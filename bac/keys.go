package bac

import (
	"crypto/sha1"
	"crypto/subtle"
	"fmt"

	"github.com/nfcbridge/nfcbridge/sm"
)

// Sizes of the BAC values (9303-11 §4.3.3).
const (
	rndLen    = 8  // RND.IC, RND.IFD
	keyLen    = 16 // K.IC, K.IFD, Kseed, Kenc, Kmac
	cryptLen  = 32 // E_IFD, E_IC: 3DES of RND ‖ RND ‖ K
	macLen    = 8  // M_IFD, M_IC
	authLen   = cryptLen + macLen
	kseedFrom = 16 // Kseed is the first 16 bytes of SHA-1(MRZ_information)
)

// DeriveKeys returns the document basic access keys Kenc and Kmac, 16-byte
// 2-key 3DES keys with DES parity, from MRZ_information (9303-11 §4.3.2,
// §9.7.1): Kseed is the first 16 bytes of SHA-1(MRZ_information), and each
// key is KDF(Kseed, c) with c = 1 and 2.
func DeriveKeys(mrzInformation []byte) (enc, mac []byte) {
	sum := sha1.Sum(mrzInformation)
	defer clear(sum[:])
	return derive(sum[:kseedFrom], sm.KeyEnc), derive(sum[:kseedFrom], sm.KeyMAC)
}

// derive is KDF(seed, use) for a 2-key 3DES key.
func derive(seed []byte, use sm.KeyUse) []byte {
	k, err := sm.DeriveKey(sm.TDES, keyLen, seed, use)
	if err != nil {
		panic("bac: internal error: " + err.Error()) // constant, valid arguments
	}
	return k
}

// sessionKeys returns the secure messaging keys of 9303-11 §4.3.3.3 and
// §9.8.6.3: KSenc and KSmac from Kseed = K.IFD xor K.IC, and SSC = the
// last four bytes of RND.IC ‖ the last four bytes of RND.IFD.
func sessionKeys(kIFD, kIC, rndIC, rndIFD []byte) sm.Keys {
	seed := make([]byte, keyLen)
	defer clear(seed)
	subtle.XORBytes(seed, kIFD, kIC)
	ssc := make([]byte, 0, 8)
	ssc = append(ssc, rndIC[4:8]...)
	ssc = append(ssc, rndIFD[4:8]...)
	return sm.Keys{Suite: sm.TDES, Enc: derive(seed, sm.KeyEnc), MAC: derive(seed, sm.KeyMAC), SSC: ssc}
}

// seal returns E ‖ M: the 3DES-CBC encryption (zero IV) of the 32-byte
// plaintext under enc and its retail MAC under mac (9303-11 §4.3.3.1).
func seal(enc, mac, plain []byte) ([]byte, error) {
	e, err := sm.EncryptCBC(sm.TDES, enc, nil, plain)
	if err != nil {
		return nil, err
	}
	m, err := sm.Checksum(sm.TDES, mac, e)
	if err != nil {
		return nil, err
	}
	return append(e, m...), nil
}

// unseal checks the MAC of a 40-byte E ‖ M in constant time and returns the
// decrypted 32 bytes; ok is false when the length or the MAC is wrong.
func unseal(enc, mac, data []byte) (plain []byte, ok bool, err error) {
	if len(data) != authLen {
		return nil, false, nil
	}
	m, err := sm.Checksum(sm.TDES, mac, data[:cryptLen])
	if err != nil {
		return nil, false, err
	}
	if subtle.ConstantTimeCompare(m, data[cryptLen:]) != 1 {
		return nil, false, nil
	}
	plain, err = sm.DecryptCBC(sm.TDES, enc, nil, data[:cryptLen])
	if err != nil {
		return nil, false, fmt.Errorf("bac: %w", err)
	}
	return plain, true, nil
}
