package chipauth

import (
	"context"
	"crypto/rand"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Config configures the terminal side. The zero value, or a nil *Config,
// is ready to use.
type Config struct {
	// Rand is the source of the ephemeral key. nil means crypto/rand.Reader.
	Rand io.Reader
	// Method overrides the command sequence; the zero value picks it by
	// cipher (see [Method]).
	Method Method
}

func (c *Config) rand() io.Reader {
	if c == nil || c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

func (c *Config) method() Method {
	if c == nil {
		return MethodAuto
	}
	return c.Method
}

// Result is the outcome of a Chip Authentication run: what was run and the
// new session keys. It prints, marshals and logs without the keys.
type Result struct {
	Protocol Protocol
	// KeyID is the key's keyId, sent in DO'84', or NoKeyID.
	KeyID int
	// Domain names the domain parameters: the curve or the DH group.
	Domain string
	// Method is the command sequence that was used.
	Method Method
	// Inferred is set when the protocol was inferred from the key's type.
	Inferred bool
	// Keys are the new secure messaging keys with the SSC at zero, for
	// Protocol.Cipher. [Result.Session] uses and clears them.
	Keys sm.Keys
}

// String describes the run, for example
// "CA-ECDH-AES-CBC-CMAC-128 keyId=195 brainpoolP256r1 MSE:Set AT+GA".
func (r Result) String() string {
	s := r.Protocol.String()
	if r.KeyID != NoKeyID {
		s += fmt.Sprintf(" keyId=%d", r.KeyID)
	}
	s += " " + r.Domain + " " + r.Method.String()
	if r.Inferred {
		s += " (inferred)"
	}
	return s
}

// MarshalText returns [Result.String]. It has a value receiver, like String
// and LogValue, so that encoding a Result value never reaches the keys.
func (r Result) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// LogValue logs protocol, key agreement, cipher, key ID, domain and method.
func (r Result) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("protocol", r.Protocol.String()),
		slog.String("keyAgreement", r.Protocol.KeyAgreement.String()),
		slog.String("cipher", r.Protocol.Cipher.String()),
		slog.Int("keyId", r.KeyID),
		slog.String("domain", r.Domain),
		slog.String("method", r.Method.String()),
		slog.Bool("inferred", r.Inferred),
	)
}

// Session starts secure messaging with the new keys over base, the
// transport under the session Chip Authentication ran on (9303-11 §6.2.1
// step 4), and clears r.Keys. The first response that verifies under it
// authenticates the chip.
func (r *Result) Session(base icao.Transport) (*sm.Session, error) {
	s, err := sm.NewSession(base, r.Keys)
	clear(r.Keys.Enc)
	clear(r.Keys.MAC)
	if err != nil {
		return nil, fmt.Errorf("chipauth: start secure messaging: %w", err)
	}
	return s, nil
}

// Authenticate runs Chip Authentication with key over t, the secure
// messaging session of BAC or PACE (9303-11 §6.2), and returns the new
// session keys. The commands are MSE:Set KAT, or MSE:Set AT and GENERAL
// AUTHENTICATE ([Method]); a long DH public key makes them extended-length
// APDUs, which 9303-11 §9.3.1.2 allows here. That adds one or two APDUs.
//
// The chip is not authenticated yet when Authenticate returns: see the
// package documentation. The session t must not be used afterwards, since
// the chip has switched to the new keys.
//
// Errors: [ErrNotSupported] when the chip refuses the protocol or key,
// [ErrInvalidKey] for a bad chip key, [ErrMalformed] for a bad answer, and
// the transport's or the status word's error otherwise.
func Authenticate(ctx context.Context, t icao.Transport, key Key, cfg *Config) (*Result, error) {
	if !key.Protocol.valid() || (key.curve == nil) == (key.dh == nil) {
		return nil, fmt.Errorf("%w: key not from Keys or Choose", ErrNoKey)
	}
	m, err := cfg.method().resolve(key.Protocol)
	if err != nil {
		return nil, err
	}
	eph, err := key.newEphemeral(cfg.rand())
	if err != nil {
		return nil, err
	}
	secret, err := key.sharedSecret(eph.sk)
	if err != nil {
		return nil, err
	}
	defer clear(secret)
	if m == SetKAT {
		err = setKAT(ctx, t, key, eph.pub)
	} else {
		err = setATAndAuthenticate(ctx, t, key, eph.pub)
	}
	if err != nil {
		return nil, err
	}
	keys, err := SessionKeys(key.Protocol.Cipher, secret)
	if err != nil {
		return nil, fmt.Errorf("chipauth: %w", err)
	}
	return &Result{Protocol: key.Protocol, KeyID: key.KeyID, Domain: key.Domain(), Method: m, Inferred: key.Inferred, Keys: keys}, nil
}

// setKAT sends MSE:Set KAT with DO'91' and DO'84' (9303-11 §6.2.4.1).
func setKAT(ctx context.Context, t icao.Transport, key Key, pub []byte) error {
	data := tlv.Append(nil, 0x91, pub)
	data = appendKeyID(data, key.KeyID)
	cmd := icao.Command{INS: icao.InsMSE, P1: 0x41, P2: 0xA6, Data: data}
	if _, err := icao.Exchange(ctx, t, cmd); err != nil {
		return rejected("set key agreement template", err)
	}
	return nil
}

// setATAndAuthenticate sends MSE:Set AT with DO'80' and DO'84', then
// GENERAL AUTHENTICATE with DO'7C' { DO'80' ephemeral key }, whose answer
// is an empty DO'7C' (9303-11 §6.2.4.2).
func setATAndAuthenticate(ctx context.Context, t icao.Transport, key Key, pub []byte) error {
	oid, err := marshalOID(key.Protocol)
	if err != nil {
		return err
	}
	data := appendKeyID(tlv.Append(nil, 0x80, oid), key.KeyID)
	cmd := icao.Command{INS: icao.InsMSE, P1: 0x41, P2: 0xA4, Data: data}
	if _, err := icao.Exchange(ctx, t, cmd); err != nil {
		return rejected("set authentication template", err)
	}
	ga := icao.Command{INS: icao.InsGeneralAuthenticate, Data: tlv.Encode(0x7C, tlv.Encode(0x80, pub)), Ne: shortLe(t)}
	resp, err := icao.Exchange(ctx, t, ga)
	if err != nil {
		return rejected("general authenticate", err)
	}
	if o, err := tlv.DecodeExpect(resp.Data, 0x7C); err != nil || len(o.Value) != 0 {
		return fmt.Errorf("chipauth: general authenticate: %w: not an empty 7C", ErrMalformed)
	}
	return nil
}

// shortLe is Le for GENERAL AUTHENTICATE: 256, or less when secure
// messaging would need an extended APDU for 256 (the answer is two bytes).
func shortLe(t icao.Transport) int {
	if l, ok := t.(icao.LeLimiter); ok && l.MaxShortLe() < icao.MaxShortNe {
		return l.MaxShortLe()
	}
	return icao.MaxShortNe
}

// appendKeyID appends DO'84' with the key ID as an unsigned big-endian
// integer without leading zeros, when there is one.
func appendKeyID(dst []byte, id int) []byte {
	if id == NoKeyID {
		return dst
	}
	b := big.NewInt(int64(id)).Bytes()
	if len(b) == 0 {
		b = []byte{0}
	}
	return tlv.Append(dst, 0x84, b)
}

// marshalOID returns the content octets of the protocol OID, the value of
// DO'80'.
func marshalOID(p Protocol) ([]byte, error) {
	der, err := asn1.Marshal(p.OID())
	if err != nil {
		return nil, fmt.Errorf("chipauth: encode %v: %w", p, err)
	}
	o, err := tlv.Decode(der)
	if err != nil {
		return nil, fmt.Errorf("chipauth: encode %v: %w", p, err)
	}
	return o.Value, nil
}

// rejected classifies the chip's refusal of a CA command: the status words
// of 9303-11 §6.2.4 and TR-03110-3 §B.11 that mean "not this protocol or
// key" become ErrNotSupported.
func rejected(step string, err error) error {
	var sw icao.StatusWord
	if errors.As(err, &sw) && (errors.Is(sw, icao.ErrWrongParameters) || errors.Is(sw, icao.ErrRefDataNotFound) ||
		errors.Is(sw, icao.ErrNotSupported) || errors.Is(sw, icao.ErrConditionsNotMet)) {
		return fmt.Errorf("chipauth: %s: %w: %w", step, ErrNotSupported, sw)
	}
	return fmt.Errorf("chipauth: %s: %w", step, err)
}
