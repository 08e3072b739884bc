package bac

import (
	"bytes"
	"context"
	"crypto/sha1"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
	"github.com/nfcbridge/nfcbridge/sm"
)

type bacVectors struct {
	D1 struct {
		Kseed       testvectors.HexBytes `json:"kseed_hex"`
		Derivations []struct {
			Key        string               `json:"key"`
			Counter    testvectors.HexBytes `json:"counter_hex"`
			D          testvectors.HexBytes `json:"d_hex"`
			SHA1D      testvectors.HexBytes `json:"sha1_d_hex"`
			KaBefore   testvectors.HexBytes `json:"ka_before_parity_hex"`
			KbBefore   testvectors.HexBytes `json:"kb_before_parity_hex"`
			Ka         testvectors.HexBytes `json:"ka_hex"`
			Kb         testvectors.HexBytes `json:"kb_hex"`
			KeyDerived testvectors.HexBytes `json:"key_hex"`
		} `json:"derivations"`
	} `json:"d1_keys_from_kseed"`
	D2 struct {
		MRZInformation string               `json:"mrz_information"`
		SHA1           testvectors.HexBytes `json:"sha1_mrz_information_hex"`
		Kseed          testvectors.HexBytes `json:"kseed_hex"`
		KEnc           testvectors.HexBytes `json:"k_enc_hex"`
		KMAC           testvectors.HexBytes `json:"k_mac_hex"`
	} `json:"d2_document_basic_access_keys"`
	D3 struct {
		GetChallengeCommand  testvectors.HexBytes `json:"get_challenge_command_hex"`
		GetChallengeResponse testvectors.HexBytes `json:"get_challenge_response_hex"`
		RndIC                testvectors.HexBytes `json:"rnd_ic_hex"`
		RndIFD               testvectors.HexBytes `json:"rnd_ifd_hex"`
		KIFD                 testvectors.HexBytes `json:"k_ifd_hex"`
		S                    testvectors.HexBytes `json:"s_hex"`
		EIFD                 testvectors.HexBytes `json:"e_ifd_hex"`
		MIFD                 testvectors.HexBytes `json:"m_ifd_hex"`
		CmdData              testvectors.HexBytes `json:"cmd_data_hex"`
		ExtAuthCommand       testvectors.HexBytes `json:"external_authenticate_command_hex"`
		KIC                  testvectors.HexBytes `json:"k_ic_hex"`
		R                    testvectors.HexBytes `json:"r_hex"`
		EIC                  testvectors.HexBytes `json:"e_ic_hex"`
		MIC                  testvectors.HexBytes `json:"m_ic_hex"`
		RespData             testvectors.HexBytes `json:"resp_data_hex"`
		ExtAuthResponse      testvectors.HexBytes `json:"external_authenticate_response_hex"`
		KseedSession         testvectors.HexBytes `json:"kseed_session_hex"`
		KSEnc                testvectors.HexBytes `json:"ks_enc_hex"`
		KSMAC                testvectors.HexBytes `json:"ks_mac_hex"`
		SSC                  testvectors.HexBytes `json:"ssc_hex"`
	} `json:"d3_mutual_authentication"`
}

func load(t testing.TB) bacVectors {
	t.Helper()
	var v bacVectors
	testvectors.Load(t, "bac.json", &v)
	require.Len(t, v.D1.Derivations, 2, "bac.json: missing sections")
	require.NotEmpty(t, v.D2.MRZInformation, "bac.json: missing sections")
	require.NotNil(t, v.D3.RndIC, "bac.json: missing sections")
	return v
}

// TestD1KeyDerivation checks 9303-11 D.1: SHA-1(Kseed ‖ c), Ka and Kb
// before and after the parity adjustment.
func TestD1KeyDerivation(t *testing.T) {
	v := load(t)
	uses := map[string]sm.KeyUse{"k_enc": sm.KeyEnc, "k_mac": sm.KeyMAC}
	for _, d := range v.D1.Derivations {
		t.Run(d.Key, func(t *testing.T) {
			assert.Equal(t, append(append([]byte(nil), v.D1.Kseed...), d.Counter...), []byte(d.D), "D = Kseed ‖ c")
			sum := sha1.Sum(d.D)
			assert.Equal(t, []byte(d.SHA1D), sum[:], "SHA-1(D)")
			assert.Equal(t, []byte(d.KaBefore), sum[:8], "Ka before parity")
			assert.Equal(t, []byte(d.KbBefore), sum[8:16], "Kb before parity")
			ka := append([]byte(nil), d.KaBefore...)
			kb := append([]byte(nil), d.KbBefore...)
			sm.AdjustParity(ka)
			sm.AdjustParity(kb)
			assert.Equal(t, []byte(d.Ka), ka, "Ka")
			assert.Equal(t, []byte(d.Kb), kb, "Kb")
			k, err := sm.DeriveKey(sm.TDES, 16, v.D1.Kseed, uses[d.Key])
			require.NoError(t, err, "DeriveKey")
			assert.Equal(t, []byte(d.KeyDerived), k, "key")
		})
	}
}

// TestD2Keys checks 9303-11 D.2: Kenc and Kmac from MRZ_information.
func TestD2Keys(t *testing.T) {
	v := load(t)
	sum := sha1.Sum([]byte(v.D2.MRZInformation))
	assert.Equal(t, []byte(v.D2.SHA1), sum[:], "SHA-1(MRZ_information)")
	assert.Equal(t, []byte(v.D2.Kseed), sum[:16], "Kseed")
	enc, mac := DeriveKeys([]byte(v.D2.MRZInformation))
	assert.Equal(t, []byte(v.D2.KEnc), enc, "Kenc")
	assert.Equal(t, []byte(v.D2.KMAC), mac, "Kmac")
}

// sm3des is the part of sm_3des.json used here: D.4 continues the D.3
// session.
type sm3des struct {
	SSCInitial testvectors.HexBytes `json:"ssc_initial_hex"`
	Steps      []struct {
		Unprotected testvectors.HexBytes `json:"unprotected_command_hex"`
		Protected   testvectors.HexBytes `json:"protected_command_hex"`
		Response    testvectors.HexBytes `json:"protected_response_hex"`
		Data        testvectors.HexBytes `json:"response_data_hex"`
		SW          testvectors.HexBytes `json:"sw_hex"`
	} `json:"steps"`
}

// TestD3Open runs 9303-11 D.3 APDU by APDU with RND.IFD and K.IFD from
// Config.Rand, then continues with the D.4 secure messaging steps over the
// returned session, which checks KSenc, KSmac and the SSC byte for byte.
func TestD3Open(t *testing.T) {
	v := load(t)
	var d4 sm3des
	testvectors.Load(t, "sm_3des.json", &d4)
	assert.Equal(t, []byte(v.D3.SSC), []byte(d4.SSCInitial), "D.4 starts from the D.3 SSC")
	sc := apdutest.NewScript(t,
		apdutest.Exchange{Cmd: v.D3.GetChallengeCommand, Resp: v.D3.GetChallengeResponse},
		apdutest.Exchange{Cmd: v.D3.ExtAuthCommand, Resp: v.D3.ExtAuthResponse},
	)
	for _, st := range d4.Steps {
		sc.Add(apdutest.Exchange{Cmd: st.Protected, Resp: st.Response})
	}
	rnd := bytes.NewReader(append(append([]byte(nil), v.D3.RndIFD...), v.D3.KIFD...))
	ctx := context.Background()
	s, err := Open(ctx, sc, []byte(v.D2.MRZInformation), &Config{Rand: rnd})
	require.NoError(t, err, "Open")
	assert.Zero(t, rnd.Len(), "random bytes left")
	assert.Equal(t, 231, s.MaxShortLe(), "MaxShortLe")
	for _, st := range d4.Steps {
		got, err := s.Transmit(ctx, st.Unprotected)
		require.NoError(t, err, "D.4 step")
		assert.Equal(t, append(append([]byte(nil), st.Data...), st.SW...), got, "D.4 response")
	}
}

// TestD3Intermediates checks S, E_IFD, M_IFD, R, E_IC, M_IC and the session
// keys with the package's helpers.
func TestD3Intermediates(t *testing.T) {
	v := load(t)
	d := v.D3
	enc, mac := DeriveKeys([]byte(v.D2.MRZInformation))
	assert.Equal(t, []byte(d.S), append(append(append([]byte(nil), d.RndIFD...), d.RndIC...), d.KIFD...), "S")
	eifd, err := seal(enc, mac, d.S)
	require.NoError(t, err, "seal S")
	assert.Equal(t, append(append([]byte(nil), d.EIFD...), d.MIFD...), eifd, "E_IFD ‖ M_IFD")
	assert.Equal(t, []byte(d.CmdData), eifd, "command data")
	eic, err := seal(enc, mac, d.R)
	require.NoError(t, err, "seal R")
	assert.Equal(t, append(append([]byte(nil), d.EIC...), d.MIC...), eic, "E_IC ‖ M_IC")
	assert.Equal(t, []byte(d.RespData), eic, "response data")
	k := sessionKeys(d.KIFD, d.KIC, d.RndIC, d.RndIFD)
	assert.Equal(t, []byte(d.KSEnc), k.Enc, "KSenc")
	assert.Equal(t, []byte(d.KSMAC), k.MAC, "KSmac")
	assert.Equal(t, []byte(d.SSC), k.SSC, "SSC")
	assert.Equal(t, sm.TDES, k.Suite, "suite")
	seed := make([]byte, 16)
	for i := range seed {
		seed[i] = d.KIFD[i] ^ d.KIC[i]
	}
	assert.Equal(t, []byte(d.KseedSession), seed, "session Kseed")
}

// TestD3Card answers the D.3 exchange from the chip side, with RND.IC and
// K.IC from the card's random source.
func TestD3Card(t *testing.T) {
	v := load(t)
	d := v.D3
	rnd := bytes.NewReader(append(append([]byte(nil), d.RndIC...), d.KIC...))
	c := NewCard([]byte(v.D2.MRZInformation), rnd)
	assert.Equal(t, []byte(d.RndIC), c.GetChallenge(), "RND.IC")
	resp, keys, err := c.ExternalAuthenticate(d.CmdData)
	require.NoError(t, err, "ExternalAuthenticate")
	assert.Equal(t, []byte(d.RespData), resp, "E_IC ‖ M_IC")
	assert.Equal(t, []byte(d.KSEnc), keys.Enc, "KSenc")
	assert.Equal(t, []byte(d.KSMAC), keys.MAC, "KSmac")
	assert.Equal(t, []byte(d.SSC), keys.SSC, "SSC")
	assert.Zero(t, rnd.Len(), "random bytes left")
	// The challenge is used up.
	_, _, err = c.ExternalAuthenticate(d.CmdData)
	assert.ErrorIs(t, err, ErrNoChallenge, "replayed EXTERNAL AUTHENTICATE")
}

func TestCardRejects(t *testing.T) {
	v := load(t)
	d := v.D3
	mrz := []byte(v.D2.MRZInformation)
	flipped := append([]byte(nil), d.CmdData...)
	flipped[3] ^= 0x40
	tests := []struct {
		name      string
		challenge bool
		rndIC     []byte
		data      []byte
		target    error
	}{
		{name: "no challenge", data: d.CmdData, target: ErrNoChallenge},
		{name: "other challenge", challenge: true, rndIC: bytes.Repeat([]byte{1}, 8), data: d.CmdData, target: ErrAuthentication},
		{name: "cryptogram changed", challenge: true, rndIC: d.RndIC, data: flipped, target: ErrAuthentication},
		{name: "MAC changed", challenge: true, rndIC: d.RndIC, data: append(append([]byte(nil), d.CmdData[:39]...), d.CmdData[39]^1), target: ErrAuthentication},
		{name: "short", challenge: true, rndIC: d.RndIC, data: d.CmdData[:39], target: ErrAuthentication},
		{name: "long", challenge: true, rndIC: d.RndIC, data: append(append([]byte(nil), d.CmdData...), 0), target: ErrAuthentication},
		{name: "empty", challenge: true, rndIC: d.RndIC, target: ErrAuthentication},
		{name: "wrong MRZ", challenge: true, rndIC: d.RndIC, data: wrongMRZData(t, d.S), target: ErrAuthentication},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCard(mrz, bytes.NewReader(append(append([]byte(nil), tc.rndIC...), d.KIC...)))
			if tc.challenge {
				c.GetChallenge()
			}
			resp, keys, err := c.ExternalAuthenticate(tc.data)
			assert.ErrorIs(t, err, tc.target, "ExternalAuthenticate")
			assert.Nil(t, resp, "answer returned with an error")
			assert.Nil(t, keys.Enc, "answer returned with an error")
		})
	}
}

// wrongMRZData is E_IFD ‖ M_IFD of the D.3 S under another document's keys.
func wrongMRZData(t *testing.T, s []byte) []byte {
	enc, mac := DeriveKeys([]byte("L898902C<369080619406237"))
	b, err := seal(enc, mac, s)
	require.NoError(t, err, "seal")
	return b
}

func TestCardRandomFailure(t *testing.T) {
	c := NewCard([]byte("L898902C<369080619406236"), bytes.NewReader(nil))
	assert.Nil(t, c.GetChallenge(), "challenge from an empty source")
	_, _, err := c.ExternalAuthenticate(make([]byte, 40))
	assert.ErrorIs(t, err, ErrNoChallenge, "after a failed challenge")
	c = NewCard([]byte("L898902C<369080619406236"), io.LimitReader(zeros{}, 8))
	require.NotNil(t, c.GetChallenge(), "no challenge")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var _ icao.Transport = (*apdutest.Script)(nil)
