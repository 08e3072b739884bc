package chipauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// pacKeys are session keys as after PACE with AES-128.
func paceKeys() sm.Keys {
	return sm.Keys{Suite: sm.AES, Enc: bytes.Repeat([]byte{1}, 16), MAC: bytes.Repeat([]byte{2}, 16)}
}

// infosOf builds SecurityInfos holding the given DER SecurityInfo entries.
func infosOf(t testing.TB, entries ...[]byte) *pace.SecurityInfos {
	t.Helper()
	s, err := pace.ParseSecurityInfos(pace.EncodeSecurityInfos(nil, entries...))
	require.NoError(t, err)
	return s
}

// roundTrip runs CA against the virtual chip's card side with key,
// offering the ciphers, and one command under the new keys, and returns
// the result and the chip.
func roundTrip(t *testing.T, key *vchip.CAKey, offered []chipauth.Cipher, infos *pace.SecurityInfos, cfg *chipauth.Config) (*chipauth.Result, *chip, error) {
	t.Helper()
	k, err := chipauth.Choose(infos)
	require.NoError(t, err)
	var offers []chipauth.Protocol
	for _, c := range offered {
		offers = append(offers, chipauth.Protocol{KeyAgreement: k.Protocol.KeyAgreement, Cipher: c})
	}
	card, err := sm.NewCard(paceKeys())
	require.NoError(t, err)
	ch := &chip{sm: card, ca: vchip.NewCACard(key, offers)}
	sess, err := sm.NewSession(ch, paceKeys())
	require.NoError(t, err)
	res, err := chipauth.Authenticate(context.Background(), sess, k, cfg)
	if err != nil {
		return nil, ch, err
	}
	sess.Close()
	next, err := res.Session(ch)
	require.NoError(t, err)
	_, err = icao.Exchange(context.Background(), next, icao.Command{INS: icao.InsSelect, P1: 2, P2: 0x0C, Data: []byte{1, 0x0E}})
	return res, ch, err
}

// chip is a whole chip for round trips: secure messaging with the keys of
// BAC or PACE, Chip Authentication, then secure messaging with the new
// keys. SELECT gets 9000.
type chip struct {
	sm   *sm.Card
	ca   *vchip.CACard
	seen []icao.Command // plain commands, for counting
}

func (ch *chip) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	plain, err := ch.sm.Unwrap(capdu)
	if err != nil {
		return []byte{0x69, 0x88}, nil
	}
	cmd, err := icao.ParseCommand(plain)
	if err != nil {
		return nil, err
	}
	ch.seen = append(ch.seen, cmd)
	resp, keys := ch.ca.Handle(cmd)
	if cmd.INS == icao.InsSelect {
		resp = icao.Response{SW: icao.StatusOK}
	}
	out, err := ch.sm.Wrap(resp.Marshal())
	if err != nil {
		return nil, err
	}
	if keys != nil {
		if ch.sm, err = sm.NewCard(*keys); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pkInfo returns the DER ChipAuthenticationPublicKeyInfo of key.
func pkInfo(t testing.TB, key *vchip.CAKey) []byte {
	t.Helper()
	b, err := key.PublicKeyInfo()
	require.NoError(t, err)
	return b
}

// caInfo returns the DER ChipAuthenticationInfo of key for the cipher.
func caInfo(t testing.TB, key *vchip.CAKey, c chipauth.Cipher) []byte {
	t.Helper()
	b, err := key.Info(c)
	require.NoError(t, err)
	return b
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		domain   int
		keyID    int
		cipher   chipauth.Cipher
		noInfo   bool
		method   chipauth.Method
		want     chipauth.Method
		wantAPDU int // CA commands
	}{
		{name: "ECDH bp256 AES-128", domain: 13, keyID: chipauth.NoKeyID, cipher: chipauth.AES128, want: chipauth.SetAT, wantAPDU: 2},
		{name: "ECDH P-256 AES-192 keyId", domain: 12, keyID: 7, cipher: chipauth.AES192, want: chipauth.SetAT, wantAPDU: 2},
		{name: "ECDH bp384 AES-256 keyId 0", domain: 16, keyID: 0, cipher: chipauth.AES256, want: chipauth.SetAT, wantAPDU: 2},
		{name: "ECDH P-521 3DES", domain: 18, keyID: chipauth.NoKeyID, cipher: chipauth.TDES, want: chipauth.SetKAT, wantAPDU: 1},
		{name: "ECDH bp256 3DES Set AT", domain: 13, keyID: 200, cipher: chipauth.TDES, method: chipauth.SetAT, want: chipauth.SetAT, wantAPDU: 2},
		{name: "ECDH no info", domain: 13, keyID: chipauth.NoKeyID, noInfo: true, want: chipauth.SetKAT, wantAPDU: 1},
		{name: "DH 1024 3DES", domain: 0, keyID: chipauth.NoKeyID, cipher: chipauth.TDES, want: chipauth.SetKAT, wantAPDU: 1},
		{name: "DH 2048 AES-128 keyId", domain: 2, keyID: 1, cipher: chipauth.AES128, want: chipauth.SetAT, wantAPDU: 2},
		{name: "DH 2048 3DES no info (extended KAT)", domain: 2, keyID: chipauth.NoKeyID, noInfo: true, want: chipauth.SetKAT, wantAPDU: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := vchip.GenerateCAKey(tc.domain, tc.keyID, nil)
			require.NoError(t, err)
			entries := [][]byte{pkInfo(t, key)}
			cipher := tc.cipher
			if tc.noInfo {
				cipher = chipauth.TDES
			} else {
				entries = append(entries, caInfo(t, key, cipher))
			}
			res, ch, err := roundTrip(t, key, []chipauth.Cipher{cipher}, infosOf(t, entries...), &chipauth.Config{Method: tc.method})
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Method, "result %v", res)
			require.Equal(t, cipher, res.Protocol.Cipher, "result %v", res)
			require.Equal(t, tc.keyID, res.KeyID, "result %v", res)
			require.Equal(t, tc.noInfo, res.Inferred, "result %v", res)
			assert.Equal(t, tc.wantAPDU, len(ch.seen)-1, "CA commands")
		})
	}
}

// TestClone runs CA with a chip whose private key is not the one DG14
// publishes: CA itself succeeds, the first command under the new keys
// fails with a secure messaging error.
func TestClone(t *testing.T) {
	for _, domain := range []int{13, 0} {
		genuine, _ := vchip.GenerateCAKey(domain, chipauth.NoKeyID, nil)
		clone, _ := vchip.GenerateCAKey(domain, chipauth.NoKeyID, nil)
		infos := infosOf(t, pkInfo(t, genuine), caInfo(t, genuine, chipauth.AES128))
		_, _, err := roundTrip(t, clone, []chipauth.Cipher{chipauth.AES128}, infos, nil)
		require.ErrorIs(t, err, icao.ErrSM, "domain %d: clone", domain)
	}
}

func TestRejected(t *testing.T) {
	key, _ := vchip.GenerateCAKey(13, chipauth.NoKeyID, nil)
	k, err := chipauth.Choose(infosOf(t, pkInfo(t, key), caInfo(t, key, chipauth.AES128)))
	require.NoError(t, err)
	tests := []struct {
		name  string
		resps [][]byte
		want  error
	}{
		{"MSE 6A80", [][]byte{{0x6A, 0x80}}, chipauth.ErrNotSupported},
		{"MSE 6A88", [][]byte{{0x6A, 0x88}}, chipauth.ErrNotSupported},
		{"MSE 6D00", [][]byte{{0x6D, 0x00}}, chipauth.ErrNotSupported},
		{"GA 6982", [][]byte{{0x90, 0}, {0x69, 0x82}}, icao.ErrSecurityStatus},
		{"GA answer with data", [][]byte{{0x90, 0}, {0x7C, 0x02, 0x80, 0x00, 0x90, 0}}, chipauth.ErrMalformed},
		{"GA answer empty", [][]byte{{0x90, 0}, {0x90, 0}}, chipauth.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := chipauth.Authenticate(context.Background(), apdutest.Answers(t, tc.resps...), k, nil)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, res)
		})
	}
	_, err = chipauth.Authenticate(context.Background(), apdutest.Answers(t), k, &chipauth.Config{Method: chipauth.SetKAT})
	require.ErrorIs(t, err, chipauth.ErrNotSupported, "KAT with AES")
	_, err = chipauth.Authenticate(context.Background(), apdutest.Answers(t), chipauth.Key{}, nil)
	require.ErrorIs(t, err, chipauth.ErrNoKey, "zero key")
}

// TestCommands checks the plain commands against 9303-11 §6.2.4.
func TestCommands(t *testing.T) {
	key, _ := vchip.GenerateCAKey(13, 0xC3, nil)
	k, _ := chipauth.Choose(infosOf(t, pkInfo(t, key), caInfo(t, key, chipauth.AES128)))
	var cmds []icao.Command
	rec := apdutest.Func(func(_ context.Context, capdu []byte) ([]byte, error) {
		c, err := icao.ParseCommand(capdu)
		cmds = append(cmds, c)
		if c.INS == icao.InsGeneralAuthenticate {
			return []byte{0x7C, 0, 0x90, 0}, err
		}
		return []byte{0x90, 0}, err
	})
	_, err := chipauth.Authenticate(context.Background(), rec, k, nil)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cmds), 2, "commands")
	wantMSE := "0022 41a4 800a04007f00070202030202 8401c3"
	got := fmt.Sprintf("%02x%02x %02x%02x %x", cmds[0].CLA, cmds[0].INS, cmds[0].P1, cmds[0].P2, cmds[0].Data)
	assert.Equal(t, strings.ReplaceAll(wantMSE, " ", ""), strings.ReplaceAll(got, " ", ""), "MSE:Set AT")
	assert.Zero(t, cmds[0].Ne, "MSE:Set AT Ne")
	ga := cmds[1]
	assert.Zero(t, ga.CLA, "GENERAL AUTHENTICATE %+v", ga)
	assert.Equal(t, byte(0x86), ga.INS, "GENERAL AUTHENTICATE %+v", ga)
	assert.Zero(t, ga.P1, "GENERAL AUTHENTICATE %+v", ga)
	assert.Zero(t, ga.P2, "GENERAL AUTHENTICATE %+v", ga)
	assert.Equal(t, 256, ga.Ne, "GENERAL AUTHENTICATE %+v", ga)
	assert.True(t, bytes.HasPrefix(ga.Data, []byte{0x7C, 0x43, 0x80, 0x41, 0x04}), "GENERAL AUTHENTICATE data %x", ga.Data)
}

// TestKeys checks the pairing of infos and keys.
func TestKeys(t *testing.T) {
	a, _ := vchip.GenerateCAKey(13, 1, nil)
	b, _ := vchip.GenerateCAKey(2, 2, nil)
	c, _ := vchip.GenerateCAKey(16, 3, nil)
	tests := []struct {
		name    string
		entries [][]byte
		want    []string
	}{
		{"strongest first", [][]byte{pkInfo(t, a), caInfo(t, a, chipauth.AES128), pkInfo(t, b), caInfo(t, b, chipauth.AES256), pkInfo(t, c), caInfo(t, c, chipauth.AES128)},
			[]string{"CA-ECDH-AES-CBC-CMAC-128 keyId=3 brainpoolP384r1", "CA-ECDH-AES-CBC-CMAC-128 keyId=1 brainpoolP256r1", "CA-DH-AES-CBC-CMAC-256 keyId=2 MODP-2048-256"}},
		{"key without info left out", [][]byte{pkInfo(t, a), caInfo(t, a, chipauth.AES128), pkInfo(t, c)},
			[]string{"CA-ECDH-AES-CBC-CMAC-128 keyId=1 brainpoolP256r1"}},
		{"no info at all", [][]byte{pkInfo(t, a), pkInfo(t, b)},
			[]string{"CA-ECDH-3DES-CBC-CBC keyId=1 brainpoolP256r1 (inferred)", "CA-DH-3DES-CBC-CBC keyId=2 MODP-2048-256 (inferred)"}},
		{"info of other agreement", [][]byte{pkInfo(t, a), caInfo(t, b, chipauth.TDES)},
			[]string{"CA-ECDH-3DES-CBC-CBC keyId=1 brainpoolP256r1 (inferred)"}},
		{"no key", [][]byte{caInfo(t, a, chipauth.AES128)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, k := range chipauth.Keys(infosOf(t, tc.entries...)) {
				got = append(got, k.String())
			}
			require.Equal(t, tc.want, got)
		})
	}
	_, err := chipauth.Choose(infosOf(t, caInfo(t, a, chipauth.AES128)))
	require.ErrorIs(t, err, chipauth.ErrNoKey, "Choose without key")
	_, err = chipauth.Choose(nil)
	require.ErrorIs(t, err, chipauth.ErrNoKey, "Choose(nil)")
}

// TestRealCardSecurity chooses the CA key of a real German EF.CardSecurity
// (testdata/realdata/CA-README.md): the ChipAuthenticationInfo names key 72;
// key 13, the PACE-CAM key, has no info.
func TestRealCardSecurity(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "realdata", "DE", "EF.CardSecurity.bin"))
	require.NoError(t, err)
	infos, err := pace.ParseSecurityInfos(eContent(t, b))
	require.NoError(t, err)
	ks := chipauth.Keys(infos)
	require.Len(t, ks, 1)
	require.Equal(t, "CA-ECDH-AES-CBC-CMAC-128 keyId=72 brainpoolP256r1", ks[0].String())
}

// eContent returns the encapsulated content of a DER CMS SignedData
// (RFC 5652 §5.1, §5.2).
func eContent(t *testing.T, b []byte) []byte {
	t.Helper()
	s := cryptobyte.String(b)
	var ci, sd, eci, content, inner cryptobyte.String
	ok := s.ReadASN1(&ci, cbasn1.SEQUENCE) && ci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) &&
		ci.ReadASN1(&sd, cbasn1.Tag(0).Constructed().ContextSpecific()) && sd.ReadASN1(&sd, cbasn1.SEQUENCE) &&
		sd.SkipASN1(cbasn1.INTEGER) && sd.SkipASN1(cbasn1.SET) && sd.ReadASN1(&eci, cbasn1.SEQUENCE) &&
		eci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) && eci.ReadASN1(&content, cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		content.ReadASN1(&inner, cbasn1.OCTET_STRING)
	require.True(t, ok, "not a DER SignedData")
	return inner
}

// TestResultRedacted checks that text, JSON, fmt and slog never show keys.
func TestResultRedacted(t *testing.T) {
	key, _ := vchip.GenerateCAKey(13, 5, nil)
	res, _, err := roundTrip(t, key, []chipauth.Cipher{chipauth.AES256}, infosOf(t, pkInfo(t, key), caInfo(t, key, chipauth.AES256)), nil)
	require.NoError(t, err)
	res.Keys = sm.Keys{Suite: sm.AES, Enc: bytes.Repeat([]byte{0xAB}, 32), MAC: bytes.Repeat([]byte{0xCD}, 32)}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("ca", "result", res)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("ca", "result", *res)
	j, _ := json.Marshal(map[string]any{"ca": res})
	jv, _ := json.Marshal(struct{ CA chipauth.Result }{*res})
	for _, out := range []string{res.String(), fmt.Sprintf("%v %+v %#v", res, *res, *res), logged.String(), string(j), string(jv)} {
		require.NotContains(t, strings.ToLower(out), "abab", "keys printed")
		require.NotContains(t, strings.ToLower(out), "cdcd", "keys printed")
		require.NotContains(t, out, "171, 171", "keys printed")
	}
	for _, want := range []string{`"protocol":"CA-ECDH-AES-CBC-CMAC-256"`, `"cipher":"AES-256"`, `"keyAgreement":"ECDH"`, `"keyId":5`, `"domain":"brainpoolP256r1"`} {
		assert.Contains(t, logged.String(), want, "log")
	}
	assert.Equal(t, `{"CA":"CA-ECDH-AES-CBC-CMAC-256 keyId=5 brainpoolP256r1 MSE:Set AT+GA"}`, string(jv), "JSON")
	assert.Equal(t, `{"ca":"CA-ECDH-AES-CBC-CMAC-256 keyId=5 brainpoolP256r1 MSE:Set AT+GA"}`, string(j), "JSON")
}

func TestProtocolByOID(t *testing.T) {
	for ka := chipauth.DH; ka <= chipauth.ECDH; ka++ {
		for c := chipauth.TDES; c <= chipauth.AES256; c++ {
			p := chipauth.Protocol{KeyAgreement: ka, Cipher: c}
			got, ok := chipauth.ProtocolByOID(p.OID())
			assert.True(t, ok, "%v: round trip", p)
			assert.Equal(t, p, got, "%v: round trip", p)
		}
	}
	for _, oid := range [][]int{{0, 4, 0, 127, 0, 7, 2, 2, 3, 3, 1}, {0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 5}, {0, 4, 0, 127, 0, 7, 2, 2, 3, 2}, {0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 2}} {
		p, ok := chipauth.ProtocolByOID(oid)
		assert.False(t, ok, "%v accepted as %v", oid, p)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	for _, domain := range []int{13, 12, 16, 2} {
		key, _ := vchip.GenerateCAKey(domain, chipauth.NoKeyID, nil)
		s, _ := pace.ParseSecurityInfos(pace.EncodeSecurityInfos(nil, pkInfo(b, key), caInfo(b, key, chipauth.AES128)))
		k, err := chipauth.Choose(s)
		require.NoError(b, err)
		ok := apdutest.Func(func(_ context.Context, capdu []byte) ([]byte, error) {
			if capdu[1] == icao.InsGeneralAuthenticate {
				return []byte{0x7C, 0, 0x90, 0}, nil
			}
			return []byte{0x90, 0}, nil
		})
		b.Run(k.Domain(), func(b *testing.B) {
			for b.Loop() {
				if _, err := chipauth.Authenticate(context.Background(), ok, k, nil); err != nil {
					b.Fatal(err) // not require: it would call b.Helper in the timed loop
				}
			}
		})
	}
}
