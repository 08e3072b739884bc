package vchip

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/nfcbridge/nfcbridge/pace"
)

// ErrChipKey is wrapped by the errors about a [ChipKey]; they never hold
// the key.
var ErrChipKey = errors.New("vchip: invalid chip authentication key")

// ChipKey is a chip's static Chip Authentication key, which PACE with the
// Chip Authentication Mapping needs (9303-11 §4.4.3.5, §6.2): the
// big-endian private scalar on the elliptic curve with a standardized
// domain parameter ID (8–18, 9303-11 §9.5.1). A real chip never gives it
// away; a specimen keeps it in chip.json so that the dataset can run CAM
// again, and publishes the public key in DG14 ([Specimen]).
//
// ChipKey has no String method; it logs and formats as "redacted".
type ChipKey struct {
	// ParameterID is the standardized domain parameter ID of the curve.
	ParameterID int
	// Private is the private scalar, big-endian, in [1, n−1].
	Private []byte
}

// LogValue keeps the key out of structured logs.
func (ChipKey) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v of a
// Dataset cannot print the key.
func (ChipKey) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// GenerateChipKey returns a new random key on the curve with the
// standardized domain parameter ID (8–18), uniform in [1, n−1]. A nil r
// means crypto/rand.Reader.
func GenerateChipKey(parameterID int, r io.Reader) (*ChipKey, error) {
	if r == nil {
		r = rand.Reader
	}
	size, mask, err := scalarShape(parameterID)
	if err != nil {
		return nil, err
	}
	d := make([]byte, size)
	for range 64 {
		if _, err := io.ReadFull(r, d); err != nil {
			return nil, fmt.Errorf("%w: random source: %w", ErrChipKey, err)
		}
		d[0] &= mask
		if _, err := pace.NewChipKey(parameterID, d); err == nil {
			return &ChipKey{ParameterID: parameterID, Private: d}, nil
		}
	}
	clear(d)
	return nil, fmt.Errorf("%w: no scalar in range after 64 tries", ErrChipKey)
}

// scalarShape returns the byte length of the order n of the curve with the
// given parameter ID and the mask of the bits its first byte can have.
// Package pace keeps n to itself, so both come from what it accepts: the
// public key 1·G has the length of two field elements, which for these
// curves have as many bytes as n; the first byte of n has k bits when
// 2^(k−1)‖00… is still a valid scalar (below n).
func scalarShape(parameterID int) (int, byte, error) {
	one, err := pace.NewChipKey(parameterID, []byte{1})
	if err != nil {
		return 0, 0, fmt.Errorf("%w: domain parameters %d are not a standardized curve", ErrChipKey, parameterID)
	}
	size := (len(one.PublicKey()) - 1) / 2
	probe := make([]byte, size)
	for k := 8; k > 1; k-- {
		probe[0] = 1 << (k - 1)
		if _, err := pace.NewChipKey(parameterID, probe); err == nil {
			return size, byte(1<<k - 1), nil
		}
	}
	return size, 1, nil
}

// paceKey returns the key for package pace.
func (k *ChipKey) paceKey() (*pace.ChipKey, error) {
	key, err := pace.NewChipKey(k.ParameterID, k.Private)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrChipKey, err) // pace's error never holds the scalar
	}
	return key, nil
}

// PublicKeyInfo returns the DER ChipAuthenticationPublicKeyInfo of the key
// (9303-11 §9.2.6), with keyId equal to the parameter ID as PACE-CAM
// requires (§9.2.1), for DG14 and EF.CardSecurity.
func (k *ChipKey) PublicKeyInfo() ([]byte, error) {
	key, err := k.paceKey()
	if err != nil {
		return nil, err
	}
	return key.PublicKeyInfo(), nil
}
