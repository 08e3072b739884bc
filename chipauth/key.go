package chipauth

import (
	"bytes"
	"cmp"
	"fmt"
	"log/slog"
	"math/big"
	"slices"

	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/pace"
)

// NoKeyID marks a key without keyId: the chip has only one, and the
// commands carry no DO'84'.
const NoKeyID = pace.NoParameterID

// Key is a chip's static Chip Authentication public key with the protocol
// to run with it: a ChipAuthenticationPublicKeyInfo paired with its
// ChipAuthenticationInfo by keyId (9303-11 §9.2.5, §9.2.6), or with the
// inferred 3DES protocol when there is none.
type Key struct {
	Protocol Protocol
	// KeyID is the keyId of both infos, or NoKeyID.
	KeyID int
	// Inferred is set when no ChipAuthenticationInfo named the protocol.
	Inferred bool
	curve    *group.Curve // ECDH
	dh       *group.DH    // DH
	pub      []byte       // the encoded public point or DH value
}

// Domain names the key's domain parameters: "brainpoolP256r1",
// "MODP-2048-224", ….
func (k Key) Domain() string {
	switch {
	case k.curve != nil:
		return k.curve.Name()
	case k.dh != nil:
		return k.dh.Name()
	}
	return ""
}

// String describes the key without its value, for example
// "CA-ECDH-AES-CBC-CMAC-128 keyId=195 brainpoolP256r1".
func (k Key) String() string {
	s := fmt.Sprintf("%v %s", k.Protocol, k.Domain())
	if k.KeyID != NoKeyID {
		s = fmt.Sprintf("%v keyId=%d %s", k.Protocol, k.KeyID, k.Domain())
	}
	if k.Inferred {
		s += " (inferred)"
	}
	return s
}

// LogValue logs the protocol, key ID and domain parameters.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("protocol", k.Protocol.String()),
		slog.Int("keyId", k.KeyID),
		slog.String("domain", k.Domain()),
		slog.Bool("inferred", k.Inferred),
	)
}

// Keys returns every usable Chip Authentication key of s, strongest first
// (ECDH before DH, then the longer cipher key, then the larger group). A
// ChipAuthenticationInfo is paired with the public key of the same keyId,
// or with the only key when either has no keyId. When s holds no
// ChipAuthenticationInfo for a key agreement, each key of it gets the 3DES
// protocol (9303-11 §6.2); when it holds some, a key none of them names is
// left out (EF.CardSecurity lists the PACE-CAM key that way). Keys on domain
// parameters that are not standardized, and invalid keys, are left out.
func Keys(s *pace.SecurityInfos) []Key {
	if s == nil {
		return nil
	}
	var out []Key
	for _, pk := range s.ChipKeys {
		k, err := newKey(pk)
		if err != nil {
			continue
		}
		infos := infosFor(s, k, len(s.ChipKeys))
		if len(infos) == 0 && !hasInfo(s, k.Protocol.KeyAgreement) {
			k.Inferred = true
			k.Protocol = Protocol{KeyAgreement: k.Protocol.KeyAgreement, Cipher: TDES}
			out = append(out, k)
		}
		for _, p := range infos {
			k.Protocol = p
			out = append(out, k)
		}
	}
	slices.SortStableFunc(out, func(a, b Key) int { return -compareKeys(a, b) })
	return out
}

// Choose returns the strongest of [Keys], or [ErrNoKey].
func Choose(s *pace.SecurityInfos) (Key, error) {
	ks := Keys(s)
	if len(ks) == 0 {
		return Key{}, ErrNoKey
	}
	return ks[0], nil
}

func compareKeys(a, b Key) int {
	return cmp.Or(
		cmp.Compare(a.Protocol.KeyAgreement, b.Protocol.KeyAgreement),
		cmp.Compare(a.Protocol.Cipher, b.Protocol.Cipher),
		cmp.Compare(a.bits(), b.bits()),
	)
}

func (k Key) bits() int {
	if k.curve != nil {
		return k.curve.Size() * 8
	}
	return k.dh.Size() * 8
}

// infosFor returns the protocols of the ChipAuthenticationInfos that name
// key k among n keys.
func infosFor(s *pace.SecurityInfos, k Key, n int) []Protocol {
	var ps []Protocol
	for _, ci := range s.ChipAuth {
		p, ok := ProtocolByOID(ci.Protocol)
		if !ok || p.KeyAgreement != k.Protocol.KeyAgreement {
			continue
		}
		if ci.KeyID == k.KeyID || ci.KeyID == NoKeyID && n == 1 || k.KeyID == NoKeyID && n == 1 {
			ps = append(ps, p)
		}
	}
	return ps
}

// hasInfo reports whether s holds a ChipAuthenticationInfo for ka.
func hasInfo(s *pace.SecurityInfos, ka KeyAgreement) bool {
	return slices.ContainsFunc(s.ChipAuth, func(ci pace.ChipAuthInfo) bool {
		p, ok := ProtocolByOID(ci.Protocol)
		return ok && p.KeyAgreement == ka
	})
}

// newKey validates a ChipAuthenticationPublicKeyInfo.
func newKey(pk pace.ChipAuthPublicKey) (Key, error) {
	k := Key{KeyID: pk.KeyID, pub: bytes.Clone(pk.PublicKey)}
	if len(pk.Protocol) != len(oidPK)+1 || !slices.Equal(pk.Protocol[:len(oidPK)], oidPK) {
		return Key{}, fmt.Errorf("%w: key protocol %v", ErrNoKey, pk.Protocol)
	}
	switch KeyAgreement(pk.Protocol[len(oidPK)]) {
	case ECDH:
		c, ok := group.CurveByID(pk.Domain.ID)
		if !ok {
			return Key{}, fmt.Errorf("%w: ECDH key on domain parameters %d", ErrNoKey, pk.Domain.ID)
		}
		if _, err := c.Unmarshal(pk.PublicKey); err != nil {
			return Key{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		k.Protocol.KeyAgreement, k.curve = ECDH, c
	case DH:
		d, ok := group.DHByID(pk.Domain.ID)
		if !ok {
			return Key{}, fmt.Errorf("%w: DH key on domain parameters %d", ErrNoKey, pk.Domain.ID)
		}
		y, err := dhPublicValue(pk.PublicKey)
		if err != nil {
			return Key{}, err
		}
		if err := checkDH(d, y); err != nil {
			return Key{}, err
		}
		k.Protocol.KeyAgreement, k.dh, k.pub = DH, d, y.Bytes()
	default:
		return Key{}, fmt.Errorf("%w: key protocol %v", ErrNoKey, pk.Protocol)
	}
	return k, nil
}

// dhPublicValue decodes the DER INTEGER that the subjectPublicKey BIT
// STRING of a DH key holds (RFC 3279 §2.3.3).
func dhPublicValue(b []byte) (*big.Int, error) {
	if len(b) < 3 || b[0] != 0x02 {
		return nil, fmt.Errorf("%w: DH public value is not an INTEGER", ErrInvalidKey)
	}
	n, hdr := int(b[1]), 2
	switch {
	case b[1] == 0x81 && len(b) > 3:
		n, hdr = int(b[2]), 3
	case b[1] == 0x82 && len(b) > 4:
		n, hdr = int(b[2])<<8|int(b[3]), 4
	case b[1] >= 0x80:
		return nil, fmt.Errorf("%w: DH public value length", ErrInvalidKey)
	}
	if hdr+n != len(b) || n == 0 || b[hdr]&0x80 != 0 {
		return nil, fmt.Errorf("%w: DH public value encoding", ErrInvalidKey)
	}
	return new(big.Int).SetBytes(b[hdr:]), nil
}

// checkDH validates a DH public value as RFC 2631 §2.1.5 asks: 1 < y < p−1
// and y^q = 1 mod p, which rules out small-subgroup elements.
func checkDH(d *group.DH, y *big.Int) error {
	p, one := d.P(), big.NewInt(1)
	if y.Cmp(one) <= 0 || y.Cmp(new(big.Int).Sub(p, one)) >= 0 {
		return fmt.Errorf("%w: DH public value out of range", ErrInvalidKey)
	}
	if new(big.Int).Exp(y, d.Q(), p).Cmp(one) != 0 {
		return fmt.Errorf("%w: DH public value outside the prime-order subgroup", ErrInvalidKey)
	}
	return nil
}
