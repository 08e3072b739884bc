package activeauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pki"
)

// ChallengeLen is the length of the challenge RND.IFD (9303-11 §6.1.2).
const ChallengeLen = 8

// Config configures [Authenticate]. The zero value, or a nil *Config, is
// ready to use.
type Config struct {
	// Rand is the source of the challenge. nil means crypto/rand.Reader.
	Rand io.Reader
}

func (c *Config) rand() io.Reader {
	if c == nil || c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

// Result is one Active Authentication exchange: the challenge, the chip's
// response, and the algorithm that verified. Challenge and response are
// the evidence a read keeps (the AA-challenge and AA-response files); they
// are random and public, not secrets.
type Result struct {
	Algorithm Algorithm
	Challenge []byte
	Response  []byte
}

// String returns the algorithm.
func (r *Result) String() string { return r.Algorithm.String() }

// MarshalText returns the algorithm.
func (r *Result) MarshalText() ([]byte, error) { return r.Algorithm.MarshalText() }

// LogValue logs the algorithm and the response length.
func (r *Result) LogValue() slog.Value {
	return slog.GroupValue(slog.String("algorithm", r.Algorithm.String()), slog.Int("responseBytes", len(r.Response)))
}

// Authenticate sends INTERNAL AUTHENTICATE (00 88 00 00) with a random
// 8-byte challenge over t and verifies the response with [Verify] (9303-11
// §6.1.2): one APDU. Le is the signature's size ([ResponseLen]); above 256
// it needs an extended APDU, which 9303-11 §9.3.1.2 allows only when
// needed.
//
// When the chip answered, the result is returned even if the signature
// does not verify, so that the caller can keep the evidence; the error then
// wraps [ErrSignature] or [ErrMalformed]. A status word error (the chip
// refused the command) comes with a nil result.
func Authenticate(ctx context.Context, t icao.Transport, pub *pki.PublicKey, hash crypto.Hash, cfg *Config) (*Result, error) {
	ne, err := ResponseLen(pub)
	if err != nil {
		return nil, err
	}
	challenge := make([]byte, ChallengeLen)
	if _, err := io.ReadFull(cfg.rand(), challenge); err != nil {
		return nil, fmt.Errorf("activeauth: challenge: %w", err)
	}
	cmd := icao.Command{INS: icao.InsInternalAuthenticate, Data: challenge, Ne: ne}
	resp, err := icao.Exchange(ctx, t, cmd)
	if err != nil {
		return nil, fmt.Errorf("activeauth: internal authenticate: %w", err)
	}
	res := &Result{Challenge: challenge, Response: bytes.Clone(resp.Data)}
	res.Algorithm, err = Verify(pub, challenge, res.Response, hash)
	if err != nil {
		return res, fmt.Errorf("activeauth: %w", err)
	}
	return res, nil
}

// ResponseLen returns the Le for INTERNAL AUTHENTICATE with pub: the
// modulus length for RSA; for ECDSA the length of the longest X9.62 DER
// signature on the curve, which also covers the plain format (2 × the
// length of n), since a chip answers with fewer bytes than Le but fails on
// more.
func ResponseLen(pub *pki.PublicKey) (int, error) {
	switch {
	case pub == nil:
		return 0, fmt.Errorf("%w: no key", ErrUnsupported)
	case pub.Type == pki.RSA && pub.RSA != nil:
		return (pub.RSA.N.BitLen() + 7) / 8, nil
	case pub.Type == pki.EC && pub.EC != nil:
		l := orderLen(pub.EC) + 3 // INTEGER tag, length, a leading zero
		body := 2 * l
		if body > 127 {
			return body + 3, nil
		}
		return body + 2, nil
	}
	return 0, fmt.Errorf("%w: key type %v", ErrUnsupported, pub.Type)
}
