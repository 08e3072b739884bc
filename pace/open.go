package pace

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Config configures the terminal side of PACE. The zero value, or a nil
// *Config, is ready to use.
type Config struct {
	// Rand is the source of the ephemeral keys and, for the Integrated
	// Mapping, of the nonce t. nil means crypto/rand.Reader.
	Rand io.Reader
}

func (c *Config) rand() io.Reader {
	if c == nil || c.Rand == nil {
		return rand.Reader
	}
	return c.Rand
}

// Result is an established PACE session.
type Result struct {
	// Session is secure messaging with the session keys, the send sequence
	// counter at zero, over the transport Open was given (9303-11 §4.4.2,
	// §9.8). Use it as the transport for everything that follows; Close it
	// when done.
	Session *sm.Session
	// Info is the protocol that was run.
	Info Info
	// Domain names the domain parameters, for example "brainpoolP256r1".
	Domain string
	// CAM holds what is needed to authenticate the chip after PACE-CAM; nil
	// for the other mappings. PACE-CAM alone does not prove the chip
	// genuine: call [CAM.Verify] with the SecurityInfos of EF.CardSecurity
	// or DG14, which Passive Authentication must also cover.
	CAM *CAM
}

// keygen picks a private key for g; tests replace it to reproduce worked
// examples whose keys are not of the size newKey draws.
type keygen func(g paceGroup, r io.Reader) (*big.Int, error)

func defaultKeygen(g paceGroup, r io.Reader) (*big.Int, error) { return g.newKey(r) }

// Open runs PACE (9303-11 §4.4; BSI TR-03110-2 §3.2) over t with the
// password pw and the protocol info, which normally comes from [Choose] over
// the PACEInfos of EF.CardAccess, and returns the secure messaging session.
//
// The commands are MSE:Set AT (00 22 C1 A4 with DO'80' protocol, DO'83'
// password reference and DO'84' parameter ID, which UA chips require
// (gmrtd#108) although 9303 makes it conditional; no Le) and four GENERAL
// AUTHENTICATE commands chained with CLA 10 except the last (9303-11
// §4.4.4.3), each with Le = 00 (extended length only when a DH-2048 public
// key does not fit a short APDU; 9303-11 §9.3.1).
//
// Errors: [ErrNotSupported] when the terminal or the chip does not support
// info (fall back to another PACEInfo or to BAC), [ErrAccessDenied] for a
// wrong password, [ErrMalformed], [ErrInvalidKey] or [ErrCAM] for bad chip
// data, and the transport's or the status word's error otherwise. Errors
// hold no password, key, nonce or token.
func Open(ctx context.Context, t icao.Transport, pw Password, info Info, cfg *Config) (*Result, error) {
	return open(ctx, t, pw, info, cfg.rand(), defaultKeygen)
}

// terminal is the state of one PACE run on the terminal side.
type terminal struct {
	ctx    context.Context
	t      icao.Transport
	info   Info
	suite  sm.Suite
	keyLen int
	rand   io.Reader
	keygen keygen
	g      paceGroup // static, then mapped
	mapPub []byte    // chip's mapping public key (GM, CAM)
}

func open(ctx context.Context, t icao.Transport, pw Password, info Info, r io.Reader, kg keygen) (*Result, error) {
	if !pw.valid() {
		return nil, fmt.Errorf("%w: no MRZ or CAN", ErrPassword)
	}
	g, err := info.group()
	if err != nil {
		return nil, fmt.Errorf("pace: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h := &terminal{ctx: ctx, t: t, info: info, suite: info.Cipher(), keyLen: info.KeyLength(), rand: r, keygen: kg, g: g}
	if err := h.setAT(pw); err != nil {
		return nil, err
	}
	s, err := h.nonce(pw)
	if err != nil {
		return nil, err
	}
	err = h.mapNonce(s)
	clear(s)
	if err != nil {
		return nil, err
	}
	keys, pubIFD, pubIC, err := h.agree()
	if err != nil {
		return nil, err
	}
	defer func() { clear(keys.Enc); clear(keys.MAC) }() // sm.NewSession copies them
	res, err := h.authenticate(keys, pubIFD, pubIC)
	if err != nil {
		return nil, err
	}
	if res.Session, err = sm.NewSession(t, keys); err != nil {
		return nil, fmt.Errorf("pace: start secure messaging: %w", err)
	}
	return res, nil
}

// setAT sends MSE:Set AT (9303-11 §4.4.4.1).
func (h *terminal) setAT(pw Password) error {
	cmd := icao.Command{CLA: 0x00, INS: icao.InsMSE, P1: 0xC1, P2: 0xA4, Data: setATData(h.info, pw.ref)}
	_, err := icao.Exchange(h.ctx, h.t, cmd)
	var sw icao.StatusWord
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &sw):
		return fmt.Errorf("pace: set authentication template: %w", err)
	case sw&0xFFF0 == 0x63C0 && sw != 0x63C0:
		return nil // a warning with the retry counter (TR-03110-3 §B.14.1)
	}
	return mseRejected("set authentication template", sw)
}

// setATData encodes DO'80' (the OID's value), DO'83' and DO'84'.
func setATData(info Info, ref byte) []byte {
	oid := derOID(info.Protocol)
	b := append([]byte{0x80}, oid[1:]...) // same length octet, tag 06 → 80
	b = append(b, 0x83, 0x01, ref)
	if id := info.ParameterID; id >= 0 {
		v := big.NewInt(int64(id)).Bytes()
		if len(v) == 0 {
			v = []byte{0}
		}
		b = append(b, 0x84, byte(len(v)))
		b = append(b, v...)
	}
	return b
}

// general sends one GENERAL AUTHENTICATE and decodes the response's 7C.
// Steps 1–3 are chained (CLA 10), the last is not.
func (h *terminal) general(data []byte, last bool) (authData, error) {
	cmd := icao.Command{CLA: 0x10, INS: icao.InsGeneralAuthenticate, Data: data, Ne: icao.MaxShortNe}
	if last {
		cmd.CLA = 0x00
	}
	if len(data) > 255 {
		cmd.Ne = icao.MaxExtendedNe
	}
	resp, err := icao.Exchange(h.ctx, h.t, cmd)
	if err != nil {
		return authData{}, err
	}
	return parseAuthData(resp.Data)
}

// nonce runs step 1: get z and decrypt s = D(K_π, z).
func (h *terminal) nonce(pw Password) ([]byte, error) {
	a, err := h.general(authObject(0, nil), false)
	var sw icao.StatusWord
	if errors.As(err, &sw) {
		return nil, mseRejected("get encrypted nonce", sw)
	}
	if err != nil {
		return nil, fmt.Errorf("pace: get encrypted nonce: %w", err)
	}
	z, err := a.require(tagNonce)
	if err != nil {
		return nil, fmt.Errorf("pace: get encrypted nonce: %w", err)
	}
	kpi, err := pw.key(h.suite, h.keyLen)
	if err != nil {
		return nil, fmt.Errorf("pace: derive password key: %w", err)
	}
	defer clear(kpi)
	s, err := decryptNonce(h.suite, kpi, z)
	if err != nil {
		return nil, fmt.Errorf("pace: decrypt nonce: %w", err)
	}
	return s, nil
}

// step wraps an error of steps 2–4 with the step's name.
func step(name string, err error) error { return fmt.Errorf("pace: %s: %w", name, err) }

// mapNonce runs step 2 and replaces h.g with the mapped group.
func (h *terminal) mapNonce(s []byte) error {
	if h.info.Mapping() == IntegratedMapping {
		return h.mapIntegrated(s)
	}
	sk, err := h.keygen(h.g, h.rand)
	if err != nil {
		return step("map nonce", err)
	}
	a, err := h.general(authObject(tagMapIFD, h.g.public(sk)), false)
	if err != nil {
		return step("map nonce", err)
	}
	pub, err := a.require(tagMapIC)
	if err != nil {
		return step("map nonce", err)
	}
	mapped, err := h.g.mapGeneric(new(big.Int).SetBytes(s), sk, pub)
	if err != nil {
		return step("map nonce", err)
	}
	h.g, h.mapPub = mapped, bytes.Clone(pub)
	return nil
}

// mapIntegrated sends the nonce t and maps R(s,t) (9303-11 §4.4.3.3.2).
func (h *terminal) mapIntegrated(s []byte) error {
	t := make([]byte, h.keyLen)
	defer clear(t)
	if _, err := io.ReadFull(h.rand, t); err != nil {
		return step("map nonce", fmt.Errorf("%w: %w", errRandom, err))
	}
	if _, err := h.general(authObject(tagMapIFD, t), false); err != nil {
		return step("map nonce", err)
	}
	x, err := prf(h.suite, s, t, h.g.prime())
	if err != nil {
		return step("map nonce", err)
	}
	mapped, err := h.g.mapIntegrated(x)
	if err != nil {
		return step("map nonce", err)
	}
	h.g = mapped
	return nil
}

// agree runs step 3: exchange ephemeral keys and derive the session keys.
func (h *terminal) agree() (keys sm.Keys, pubIFD, pubIC []byte, err error) {
	sk, err := h.keygen(h.g, h.rand)
	if err != nil {
		return sm.Keys{}, nil, nil, step("key agreement", err)
	}
	pubIFD = h.g.public(sk)
	a, err := h.general(authObject(tagKeyIFD, pubIFD), false)
	if err != nil {
		return sm.Keys{}, nil, nil, step("key agreement", err)
	}
	if pubIC, err = a.require(tagKeyIC); err != nil {
		return sm.Keys{}, nil, nil, step("key agreement", err)
	}
	if bytes.Equal(pubIC, pubIFD) {
		return sm.Keys{}, nil, nil, step("key agreement", fmt.Errorf("%w: chip returned the terminal's key", ErrInvalidKey))
	}
	secret, err := h.g.secret(sk, pubIC)
	if err != nil {
		return sm.Keys{}, nil, nil, step("key agreement", err)
	}
	defer clear(secret)
	keys, err = sessionKeys(h.suite, h.keyLen, secret)
	if err != nil {
		return sm.Keys{}, nil, nil, step("key agreement", err)
	}
	return keys, pubIFD, bytes.Clone(pubIC), nil
}

// authenticate runs step 4: exchange and check the tokens, and for CAM
// decrypt the chip authentication data.
func (h *terminal) authenticate(keys sm.Keys, pubIFD, pubIC []byte) (*Result, error) {
	tag := h.g.publicTag()
	tIFD, err := token(h.suite, keys.MAC, publicKeyObject(h.info.Protocol, tag, pubIC))
	if err != nil {
		return nil, step("mutual authentication", err)
	}
	a, err := h.general(authObject(tagTokenIFD, tIFD), true)
	var sw icao.StatusWord
	if errors.As(err, &sw) {
		return nil, authRejected(sw)
	}
	if err != nil {
		return nil, step("mutual authentication", err)
	}
	tIC, err := a.require(tagTokenIC)
	if err != nil {
		return nil, step("mutual authentication", err)
	}
	want, err := token(h.suite, keys.MAC, publicKeyObject(h.info.Protocol, tag, pubIFD))
	if err != nil {
		return nil, step("mutual authentication", err)
	}
	if !hmac.Equal(tIC, want) {
		return nil, step("mutual authentication", ErrToken)
	}
	res := &Result{Info: h.info, Domain: h.g.domainName()}
	if h.info.Mapping() == ChipAuthenticationMapping {
		if res.CAM, err = h.chipAuthData(a, keys); err != nil {
			return nil, step("chip authentication mapping", err)
		}
	}
	return res, nil
}
