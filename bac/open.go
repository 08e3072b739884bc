package bac

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Errors returned by [Open]. Both wrap the chip's icao.StatusWord when a
// status word was the reason, so errors.As can still log it.
var (
	// ErrAccessDenied means the chip refused the key or the key did not
	// match the chip: EXTERNAL AUTHENTICATE answered 6300, 63Cx, 6983 or 6985,
	// or the chip's cryptogram or MAC did not verify. The MRZ is probably
	// wrong (9303-11 §4.3.3.1).
	ErrAccessDenied = errors.New("bac: access denied (check the MRZ)")
	// ErrNotSupported means the chip refused GET CHALLENGE with 6A88, 6985,
	// 6D00, 6A81 or 6E00: it does not do BAC and needs PACE.
	ErrNotSupported = errors.New("bac: chip does not support BAC")
)

// Config holds the options of [Open]. The zero value is ready to use. A
// Config must not be modified after it has been passed to Open.
type Config struct {
	// Rand is the source of RND.IFD and K.IFD. Open reads 8 bytes of RND.IFD
	// first, then 16 bytes of K.IFD. If nil, crypto/rand is used. Set it only
	// to make tests deterministic.
	Rand io.Reader
}

func (c *Config) rand() io.Reader {
	if c == nil || c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

// Open runs BAC over t with the document basic access keys from
// mrzInformation (9303-11 §4.3.3, Appendix D.3): GET CHALLENGE, then
// EXTERNAL AUTHENTICATE with E_IFD ‖ M_IFD, then it checks the chip's
// E_IC ‖ M_IC and returns the 3DES secure messaging session that wraps t.
// cfg may be nil.
func Open(ctx context.Context, t icao.Transport, mrzInformation []byte, cfg *Config) (*sm.Session, error) {
	if len(mrzInformation) == 0 {
		return nil, errors.New("bac: empty MRZ information")
	}
	rndIC, err := getChallenge(ctx, t)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, rndLen+keyLen) // RND.IFD ‖ K.IFD
	defer clear(secret)
	if _, err := io.ReadFull(cfg.rand(), secret); err != nil {
		return nil, fmt.Errorf("bac: reading random bytes: %w", err)
	}
	rndIFD, kIFD := secret[:rndLen], secret[rndLen:]
	enc, mac := DeriveKeys(mrzInformation)
	defer clear(enc)
	defer clear(mac)
	kIC, err := mutualAuthenticate(ctx, t, enc, mac, rndIC, rndIFD, kIFD)
	if err != nil {
		return nil, err
	}
	defer clear(kIC)
	keys := sessionKeys(kIFD, kIC, rndIC, rndIFD)
	defer clear(keys.Enc)
	defer clear(keys.MAC)
	return sm.NewSession(t, keys)
}

// getChallenge sends GET CHALLENGE and returns RND.IC.
func getChallenge(ctx context.Context, t icao.Transport) ([]byte, error) {
	r, err := icao.Exchange(ctx, t, icao.Command{INS: icao.InsGetChallenge, Ne: rndLen})
	var sw icao.StatusWord
	switch {
	case errors.As(err, &sw) && notSupported(sw):
		return nil, fmt.Errorf("%w: %w", ErrNotSupported, sw)
	case err != nil:
		return nil, fmt.Errorf("bac: get challenge: %w", err)
	case len(r.Data) != rndLen:
		return nil, fmt.Errorf("bac: get challenge: %d bytes of challenge, want %d", len(r.Data), rndLen)
	}
	return r.Data, nil
}

func notSupported(sw icao.StatusWord) bool {
	switch sw {
	case icao.StatusRefDataNotFound, icao.StatusConditionsNotMet, icao.StatusInsNotSupported,
		icao.StatusFuncNotSupported, icao.StatusClaNotSupported:
		return true
	}
	return false
}

// mutualAuthenticate sends EXTERNAL AUTHENTICATE, verifies the chip's
// answer and returns K.IC.
func mutualAuthenticate(ctx context.Context, t icao.Transport, enc, mac, rndIC, rndIFD, kIFD []byte) ([]byte, error) {
	s := make([]byte, 0, cryptLen) // S = RND.IFD ‖ RND.IC ‖ K.IFD
	s = append(append(append(s, rndIFD...), rndIC...), kIFD...)
	defer clear(s)
	data, err := seal(enc, mac, s)
	if err != nil {
		return nil, fmt.Errorf("bac: external authenticate: %w", err)
	}
	cmd := icao.Command{INS: icao.InsExternalAuthenticate, Data: data, Ne: authLen}
	resp, err := icao.Exchange(ctx, t, cmd)
	var sw icao.StatusWord
	switch {
	case errors.As(err, &sw) && (errors.Is(sw, icao.ErrAuthFailed) || sw == icao.StatusConditionsNotMet):
		return nil, fmt.Errorf("%w: %w", ErrAccessDenied, sw)
	case err != nil:
		return nil, fmt.Errorf("bac: external authenticate: %w", err)
	}
	r, ok, err := unseal(enc, mac, resp.Data) // R = RND.IC ‖ RND.IFD ‖ K.IC
	if err != nil {
		return nil, err
	}
	defer clear(r)
	if !ok || subtle.ConstantTimeCompare(r[:rndLen], rndIC)&subtle.ConstantTimeCompare(r[rndLen:2*rndLen], rndIFD) != 1 {
		return nil, fmt.Errorf("%w: chip cryptogram does not verify", ErrAccessDenied)
	}
	return append([]byte(nil), r[2*rndLen:]...), nil
}
