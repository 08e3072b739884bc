package vchip

import (
	"crypto"
	"fmt"

	"github.com/nfcbridge/nfcbridge/chipauth"
)

// ChipAuthSpec describes the Chip Authentication of a specimen.
type ChipAuthSpec struct {
	// ParameterID is the standardized domain parameter ID of the key:
	// 0–2 for DH, 8–18 for ECDH (9303-11 §9.5.1).
	ParameterID int
	// KeyID is the keyId of the key and its infos; zero means none.
	KeyID int
	// Ciphers are the ChipAuthenticationInfos DG14 offers, one per
	// cipher; none omits ChipAuthenticationInfo, which 9303-11 §6.2 allows
	// a chip that does CA with 3DES only.
	Ciphers []chipauth.Cipher
	// Key is the key to use; nil means a new random key from Rand.
	Key *CAKey
}

// ActiveAuthSpec describes the Active Authentication of a specimen.
type ActiveAuthSpec struct {
	// RSABits, when positive, makes an RSA key of that size (at least
	// 1024); else the key is ECDSA on ParameterID.
	RSABits int
	// ParameterID is the standardized curve (8–18) of an EC key.
	ParameterID int
	// Hash is the signature hash ([AAKey.Hash]); zero means SHA-1 for
	// RSA (trailer BC) and SHA-256 for ECDSA.
	Hash crypto.Hash
	// Key is the key to use; nil means a new random key from Rand.
	Key *AAKey
}

// authFiles are the Chip and Active Authentication parts of a specimen.
type authFiles struct {
	infos  [][]byte // for DG14 and EF.CardSecurity
	aaInfo []byte   // ActiveAuthenticationInfo, DG14 only; nil for RSA
	dg15   []byte
	ca     *CAKey
	aa     *AAKey
}

// specimenAuth makes the keys and SecurityInfos of cfg.ChipAuth and
// cfg.ActiveAuth.
func specimenAuth(cfg SpecimenConfig) (authFiles, error) {
	var out authFiles
	if s := cfg.ChipAuth; s != nil {
		keyID := s.KeyID
		if keyID == 0 {
			keyID = chipauth.NoKeyID
		}
		key := s.Key
		if key == nil {
			var err error
			if key, err = GenerateCAKey(s.ParameterID, keyID, cfg.Rand); err != nil {
				return authFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
			}
		}
		pki, err := key.PublicKeyInfo()
		if err != nil {
			return authFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
		out.infos, out.ca = append(out.infos, pki), key
		for _, c := range s.Ciphers {
			info, err := key.Info(c)
			if err != nil || c.Suite() == 0 {
				return authFiles{}, fmt.Errorf("%w: chip authentication cipher %v", ErrSpecimen, c)
			}
			out.infos = append(out.infos, info)
		}
	}
	if s := cfg.ActiveAuth; s != nil {
		key, err := specimenAAKey(s, cfg)
		if err != nil {
			return authFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
		if out.dg15, err = key.DG15(); err != nil {
			return authFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
		if out.aaInfo, err = key.Info(); err != nil {
			return authFiles{}, fmt.Errorf("%w: %w", ErrSpecimen, err)
		}
		out.aa = key
	}
	return out, nil
}

func specimenAAKey(s *ActiveAuthSpec, cfg SpecimenConfig) (*AAKey, error) {
	switch {
	case s.Key != nil:
		return s.Key, nil
	case s.RSABits > 0:
		return GenerateRSAAAKey(s.RSABits, s.Hash, cfg.Rand)
	}
	return GenerateECAAKey(s.ParameterID, s.Hash, cfg.Rand)
}
