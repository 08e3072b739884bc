package chipauth

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

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
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

// roundTrip runs CA against the card side and one command under the new
// keys, and returns the result and the chip.
func roundTrip(t *testing.T, key *CardKey, offered []Cipher, infos *pace.SecurityInfos, cfg *Config) (*Result, *chip, error) {
	t.Helper()
	card, err := sm.NewCard(paceKeys())
	require.NoError(t, err)
	ch := &chip{sm: card, ca: NewCard(key, offered...)}
	sess, err := sm.NewSession(ch, paceKeys())
	require.NoError(t, err)
	k, err := Choose(infos)
	require.NoError(t, err)
	res, err := Authenticate(context.Background(), sess, k, cfg)
	if err != nil {
		return nil, ch, err
	}
	sess.Close()
	next, err := res.Session(ch)
	require.NoError(t, err)
	_, err = icao.Exchange(context.Background(), next, icao.Command{INS: icao.InsSelect, P1: 2, P2: 0x0C, Data: []byte{1, 0x0E}})
	return res, ch, err
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		domain   int
		keyID    int
		cipher   Cipher
		noInfo   bool
		method   Method
		want     Method
		wantAPDU int // CA commands
	}{
		{name: "ECDH bp256 AES-128", domain: 13, keyID: NoKeyID, cipher: AES128, want: SetAT, wantAPDU: 2},
		{name: "ECDH P-256 AES-192 keyId", domain: 12, keyID: 7, cipher: AES192, want: SetAT, wantAPDU: 2},
		{name: "ECDH bp384 AES-256 keyId 0", domain: 16, keyID: 0, cipher: AES256, want: SetAT, wantAPDU: 2},
		{name: "ECDH P-521 3DES", domain: 18, keyID: NoKeyID, cipher: TDES, want: SetKAT, wantAPDU: 1},
		{name: "ECDH bp256 3DES Set AT", domain: 13, keyID: 200, cipher: TDES, method: SetAT, want: SetAT, wantAPDU: 2},
		{name: "ECDH no info", domain: 13, keyID: NoKeyID, noInfo: true, want: SetKAT, wantAPDU: 1},
		{name: "DH 1024 3DES", domain: 0, keyID: NoKeyID, cipher: TDES, want: SetKAT, wantAPDU: 1},
		{name: "DH 2048 AES-128 keyId", domain: 2, keyID: 1, cipher: AES128, want: SetAT, wantAPDU: 2},
		{name: "DH 2048 3DES no info (extended KAT)", domain: 2, keyID: NoKeyID, noInfo: true, want: SetKAT, wantAPDU: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := GenerateCardKey(tc.domain, tc.keyID, nil)
			require.NoError(t, err)
			entries := [][]byte{key.PublicKeyInfo()}
			cipher := tc.cipher
			if tc.noInfo {
				cipher = TDES
			} else {
				entries = append(entries, key.Info(cipher))
			}
			res, ch, err := roundTrip(t, key, []Cipher{cipher}, infosOf(t, entries...), &Config{Method: tc.method})
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
		genuine, _ := GenerateCardKey(domain, NoKeyID, nil)
		clone, _ := GenerateCardKey(domain, NoKeyID, nil)
		infos := infosOf(t, genuine.PublicKeyInfo(), genuine.Info(AES128))
		_, _, err := roundTrip(t, clone, []Cipher{AES128}, infos, nil)
		require.ErrorIs(t, err, icao.ErrSM, "domain %d: clone", domain)
	}
}

func TestRejected(t *testing.T) {
	key, _ := GenerateCardKey(13, NoKeyID, nil)
	k, err := Choose(infosOf(t, key.PublicKeyInfo(), key.Info(AES128)))
	require.NoError(t, err)
	tests := []struct {
		name  string
		resps [][]byte
		want  error
	}{
		{"MSE 6A80", [][]byte{{0x6A, 0x80}}, ErrNotSupported},
		{"MSE 6A88", [][]byte{{0x6A, 0x88}}, ErrNotSupported},
		{"MSE 6D00", [][]byte{{0x6D, 0x00}}, ErrNotSupported},
		{"GA 6982", [][]byte{{0x90, 0}, {0x69, 0x82}}, icao.ErrSecurityStatus},
		{"GA answer with data", [][]byte{{0x90, 0}, {0x7C, 0x02, 0x80, 0x00, 0x90, 0}}, ErrMalformed},
		{"GA answer empty", [][]byte{{0x90, 0}, {0x90, 0}}, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Authenticate(context.Background(), apdutest.Answers(t, tc.resps...), k, nil)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, res)
		})
	}
	_, err = Authenticate(context.Background(), apdutest.Answers(t), k, &Config{Method: SetKAT})
	require.ErrorIs(t, err, ErrNotSupported, "KAT with AES")
	_, err = Authenticate(context.Background(), apdutest.Answers(t), Key{}, nil)
	require.ErrorIs(t, err, ErrNoKey, "zero key")
}

// TestCommands checks the plain commands against 9303-11 §6.2.4.
func TestCommands(t *testing.T) {
	key, _ := GenerateCardKey(13, 0xC3, nil)
	k, _ := Choose(infosOf(t, key.PublicKeyInfo(), key.Info(AES128)))
	var cmds []icao.Command
	rec := apdutest.Func(func(_ context.Context, capdu []byte) ([]byte, error) {
		c, err := icao.ParseCommand(capdu)
		cmds = append(cmds, c)
		if c.INS == icao.InsGeneralAuthenticate {
			return []byte{0x7C, 0, 0x90, 0}, err
		}
		return []byte{0x90, 0}, err
	})
	_, err := Authenticate(context.Background(), rec, k, nil)
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
	a, _ := GenerateCardKey(13, 1, nil)
	b, _ := GenerateCardKey(2, 2, nil)
	c, _ := GenerateCardKey(16, 3, nil)
	tests := []struct {
		name    string
		entries [][]byte
		want    []string
	}{
		{"strongest first", [][]byte{a.PublicKeyInfo(), a.Info(AES128), b.PublicKeyInfo(), b.Info(AES256), c.PublicKeyInfo(), c.Info(AES128)},
			[]string{"CA-ECDH-AES-CBC-CMAC-128 keyId=3 brainpoolP384r1", "CA-ECDH-AES-CBC-CMAC-128 keyId=1 brainpoolP256r1", "CA-DH-AES-CBC-CMAC-256 keyId=2 MODP-2048-256"}},
		{"key without info left out", [][]byte{a.PublicKeyInfo(), a.Info(AES128), c.PublicKeyInfo()},
			[]string{"CA-ECDH-AES-CBC-CMAC-128 keyId=1 brainpoolP256r1"}},
		{"no info at all", [][]byte{a.PublicKeyInfo(), b.PublicKeyInfo()},
			[]string{"CA-ECDH-3DES-CBC-CBC keyId=1 brainpoolP256r1 (inferred)", "CA-DH-3DES-CBC-CBC keyId=2 MODP-2048-256 (inferred)"}},
		{"info of other agreement", [][]byte{a.PublicKeyInfo(), b.Info(TDES)},
			[]string{"CA-ECDH-3DES-CBC-CBC keyId=1 brainpoolP256r1 (inferred)"}},
		{"no key", [][]byte{a.Info(AES128)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, k := range Keys(infosOf(t, tc.entries...)) {
				got = append(got, k.String())
			}
			require.Equal(t, tc.want, got)
		})
	}
	_, err := Choose(infosOf(t, a.Info(AES128)))
	require.ErrorIs(t, err, ErrNoKey, "Choose without key")
	_, err = Choose(nil)
	require.ErrorIs(t, err, ErrNoKey, "Choose(nil)")
}

// TestRealCardSecurity chooses the CA key of a real German EF.CardSecurity
// (testdata/realdata/CA-README.md): the ChipAuthenticationInfo names key 72;
// key 13, the PACE-CAM key, has no info.
func TestRealCardSecurity(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "realdata", "DE", "EF.CardSecurity.bin"))
	require.NoError(t, err)
	infos, err := pace.ParseSecurityInfos(eContent(t, b))
	require.NoError(t, err)
	ks := Keys(infos)
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
	key, _ := GenerateCardKey(13, 5, nil)
	res, _, err := roundTrip(t, key, []Cipher{AES256}, infosOf(t, key.PublicKeyInfo(), key.Info(AES256)), nil)
	require.NoError(t, err)
	res.Keys = sm.Keys{Suite: sm.AES, Enc: bytes.Repeat([]byte{0xAB}, 32), MAC: bytes.Repeat([]byte{0xCD}, 32)}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("ca", "result", res)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("ca", "result", *res)
	j, _ := json.Marshal(map[string]any{"ca": res})
	jv, _ := json.Marshal(struct{ CA Result }{*res})
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
	for ka := DH; ka <= ECDH; ka++ {
		for c := TDES; c <= AES256; c++ {
			p := Protocol{ka, c}
			got, ok := ProtocolByOID(p.OID())
			assert.True(t, ok, "%v: round trip", p)
			assert.Equal(t, p, got, "%v: round trip", p)
		}
	}
	for _, oid := range [][]int{{0, 4, 0, 127, 0, 7, 2, 2, 3, 3, 1}, {0, 4, 0, 127, 0, 7, 2, 2, 3, 2, 5}, {0, 4, 0, 127, 0, 7, 2, 2, 3, 2}, {0, 4, 0, 127, 0, 7, 2, 2, 4, 2, 2}} {
		p, ok := ProtocolByOID(oid)
		assert.False(t, ok, "%v accepted as %v", oid, p)
	}
}

func BenchmarkAuthenticate(b *testing.B) {
	for _, domain := range []int{13, 12, 16, 2} {
		key, _ := GenerateCardKey(domain, NoKeyID, nil)
		s, _ := pace.ParseSecurityInfos(pace.EncodeSecurityInfos(nil, key.PublicKeyInfo(), key.Info(AES128)))
		k, err := Choose(s)
		require.NoError(b, err)
		ok := apdutest.Func(func(_ context.Context, capdu []byte) ([]byte, error) {
			if capdu[1] == icao.InsGeneralAuthenticate {
				return []byte{0x7C, 0, 0x90, 0}, nil
			}
			return []byte{0x90, 0}, nil
		})
		b.Run(k.Domain(), func(b *testing.B) {
			for b.Loop() {
				if _, err := Authenticate(context.Background(), ok, k, nil); err != nil {
					b.Fatal(err) // not require: it would call b.Helper in the timed loop
				}
			}
		})
	}
}
