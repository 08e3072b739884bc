package pace

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"github.com/nfcbridge/nfcbridge/sm"
)

// CAM is the outcome of PACE with Chip Authentication Mapping (9303-11
// §4.4.3.5): the decrypted chip authentication data CA_IC and the chip's
// mapping key PK_Map,IC. Verify checks them against the chip's static public
// key. CAM has no String method; it logs and formats as "redacted".
type CAM struct {
	c      *curve
	id     int      // parameter ID = key ID of the chip's CA key (§9.2.1)
	ca     *big.Int // CA_IC
	mapKey []byte   // PK_Map,IC
}

// LogValue keeps the chip authentication data out of structured logs.
func (CAM) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the chip authentication data.
func (CAM) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// aesBlock is the AES block size, that of the CAM encryption.
const aesBlock = 16

// camIV returns IV = E(KSenc, −1), the all-ones block encrypted under KSenc
// (9303-11 §4.4.3.5.4).
func camIV(ksEnc []byte) ([]byte, error) {
	return sm.EncryptCBC(sm.AES, ksEnc, nil, bytes.Repeat([]byte{0xFF}, aesBlock))
}

// chipAuthData decrypts DO'8A' of the last response: A_IC = AES-CBC(KSenc,
// IV = E(KSenc, −1), CA_IC padded with method 2) (9303-11 §4.4.3.5).
func (h *terminal) chipAuthData(a authData, keys sm.Keys) (*CAM, error) {
	e, ok := h.g.(*ecGroup)
	if !ok {
		return nil, fmt.Errorf("%w: CAM needs ECDH", ErrNotSupported)
	}
	enc, err := a.require(tagCAData)
	if err != nil {
		return nil, err
	}
	if len(enc) == 0 || len(enc)%aesBlock != 0 || len(enc) > 4*e.c.size+aesBlock {
		return nil, fmt.Errorf("%w: encrypted chip authentication data of %d bytes", ErrCAM, len(enc))
	}
	iv, err := camIV(keys.Enc)
	if err != nil {
		return nil, err
	}
	plain, err := sm.DecryptCBC(sm.AES, keys.Enc, iv, enc)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	unpadded, err := sm.Unpad(plain, aesBlock)
	if err != nil {
		return nil, fmt.Errorf("%w: bad padding of the chip authentication data", ErrCAM)
	}
	ca := new(big.Int).SetBytes(unpadded)
	if ca.Sign() == 0 || ca.Cmp(e.c.n) >= 0 {
		return nil, fmt.Errorf("%w: chip authentication data out of range", ErrCAM)
	}
	return &CAM{c: e.c, id: h.info.ParameterID, ca: ca, mapKey: bytes.Clone(h.mapPub)}, nil
}

// Verify authenticates the chip (9303-11 §4.4.3.5.2, §6.2): it picks the
// ChipAuthenticationPublicKeyInfo whose keyId equals the PACEInfo's
// parameterId (9303-11 §9.2.1; the only ECDH key when there is one and it
// has no keyId) and checks PK_Map,IC = CA_IC·PK_IC. s comes from
// EF.CardSecurity or DG14, read over the PACE session; the result means
// something only once Passive Authentication has verified that file.
//
// It returns nil when the chip is authentic, [ErrCAM] when it is not, and
// [ErrNoChipKey] when s holds no suitable key (the chip was not checked).
func (c *CAM) Verify(s *SecurityInfos) error {
	var only *ChipAuthPublicKey
	n := 0
	for k := range s.ChipKeys {
		key := &s.ChipKeys[k]
		if !isUnder(key.Protocol, oidPK, 1) || key.Protocol[len(oidPK)] != 2 {
			continue // not id-PK-ECDH
		}
		if key.KeyID == c.id {
			return c.VerifyKey(*key)
		}
		if key.KeyID == NoParameterID {
			only = key
		}
		n++
	}
	if n == 1 && only != nil {
		return c.VerifyKey(*only)
	}
	return fmt.Errorf("%w: none with key ID %d", ErrNoChipKey, c.id)
}

// VerifyKey checks PK_Map,IC = CA_IC·PK_IC with the given chip
// authentication public key, which must be on the PACE curve.
func (c *CAM) VerifyKey(k ChipAuthPublicKey) error {
	if k.Domain.ID != c.c.id {
		return fmt.Errorf("%w: chip key on other domain parameters than PACE (%d, want %d)", ErrNoChipKey, k.Domain.ID, c.c.id)
	}
	pk, err := c.c.decodePoint(k.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: chip authentication public key: %w", ErrCAM, err)
	}
	mapKey, err := c.c.decodePoint(c.mapKey)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCAM, err)
	}
	if !c.c.ScalarMult(pk, c.ca).Equal(mapKey) {
		return ErrCAM
	}
	return nil
}
