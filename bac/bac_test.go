package bac

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"io"
	"testing"

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
	if len(v.D1.Derivations) != 2 || v.D2.MRZInformation == "" || v.D3.RndIC == nil {
		t.Fatal("bac.json: missing sections")
	}
	return v
}

func eqBytes(t testing.TB, want, got []byte, what string) {
	t.Helper()
	if !bytes.Equal(want, got) {
		t.Errorf("%s:\n got %x\nwant %x", what, got, want)
	}
}

func noErr(t testing.TB, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func isErr(t testing.TB, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// TestD1KeyDerivation checks 9303-11 D.1: SHA-1(Kseed ‖ c), Ka and Kb
// before and after the parity adjustment.
func TestD1KeyDerivation(t *testing.T) {
	v := load(t)
	uses := map[string]sm.KeyUse{"k_enc": sm.KeyEnc, "k_mac": sm.KeyMAC}
	for _, d := range v.D1.Derivations {
		t.Run(d.Key, func(t *testing.T) {
			eqBytes(t, append(append([]byte(nil), v.D1.Kseed...), d.Counter...), d.D, "D = Kseed ‖ c")
			sum := sha1.Sum(d.D)
			eqBytes(t, d.SHA1D, sum[:], "SHA-1(D)")
			eqBytes(t, d.KaBefore, sum[:8], "Ka before parity")
			eqBytes(t, d.KbBefore, sum[8:16], "Kb before parity")
			ka := append([]byte(nil), d.KaBefore...)
			kb := append([]byte(nil), d.KbBefore...)
			sm.AdjustParity(ka)
			sm.AdjustParity(kb)
			eqBytes(t, d.Ka, ka, "Ka")
			eqBytes(t, d.Kb, kb, "Kb")
			k, err := sm.DeriveKey(sm.TDES, 16, v.D1.Kseed, uses[d.Key])
			noErr(t, err, "DeriveKey")
			eqBytes(t, d.KeyDerived, k, "key")
		})
	}
}

// TestD2Keys checks 9303-11 D.2: Kenc and Kmac from MRZ_information.
func TestD2Keys(t *testing.T) {
	v := load(t)
	sum := sha1.Sum([]byte(v.D2.MRZInformation))
	eqBytes(t, v.D2.SHA1, sum[:], "SHA-1(MRZ_information)")
	eqBytes(t, v.D2.Kseed, sum[:16], "Kseed")
	enc, mac := DeriveKeys([]byte(v.D2.MRZInformation))
	eqBytes(t, v.D2.KEnc, enc, "Kenc")
	eqBytes(t, v.D2.KMAC, mac, "Kmac")
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
	eqBytes(t, v.D3.SSC, d4.SSCInitial, "D.4 starts from the D.3 SSC")
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
	noErr(t, err, "Open")
	if rnd.Len() != 0 {
		t.Errorf("%d random bytes left", rnd.Len())
	}
	if s.MaxShortLe() != 231 {
		t.Errorf("MaxShortLe = %d", s.MaxShortLe())
	}
	for _, st := range d4.Steps {
		got, err := s.Transmit(ctx, st.Unprotected)
		noErr(t, err, "D.4 step")
		eqBytes(t, append(append([]byte(nil), st.Data...), st.SW...), got, "D.4 response")
	}
}

// TestD3Intermediates checks S, E_IFD, M_IFD, R, E_IC, M_IC and the session
// keys with the package's helpers.
func TestD3Intermediates(t *testing.T) {
	v := load(t)
	d := v.D3
	enc, mac := DeriveKeys([]byte(v.D2.MRZInformation))
	eqBytes(t, d.S, append(append(append([]byte(nil), d.RndIFD...), d.RndIC...), d.KIFD...), "S")
	eifd, err := seal(enc, mac, d.S)
	noErr(t, err, "seal S")
	eqBytes(t, append(append([]byte(nil), d.EIFD...), d.MIFD...), eifd, "E_IFD ‖ M_IFD")
	eqBytes(t, d.CmdData, eifd, "command data")
	eic, err := seal(enc, mac, d.R)
	noErr(t, err, "seal R")
	eqBytes(t, append(append([]byte(nil), d.EIC...), d.MIC...), eic, "E_IC ‖ M_IC")
	eqBytes(t, d.RespData, eic, "response data")
	k := sessionKeys(d.KIFD, d.KIC, d.RndIC, d.RndIFD)
	eqBytes(t, d.KSEnc, k.Enc, "KSenc")
	eqBytes(t, d.KSMAC, k.MAC, "KSmac")
	eqBytes(t, d.SSC, k.SSC, "SSC")
	if k.Suite != sm.TDES {
		t.Errorf("suite %v", k.Suite)
	}
	seed := make([]byte, 16)
	for i := range seed {
		seed[i] = d.KIFD[i] ^ d.KIC[i]
	}
	eqBytes(t, d.KseedSession, seed, "session Kseed")
}

// TestD3Card answers the D.3 exchange from the chip side, with RND.IC and
// K.IC from the card's random source.
func TestD3Card(t *testing.T) {
	v := load(t)
	d := v.D3
	rnd := bytes.NewReader(append(append([]byte(nil), d.RndIC...), d.KIC...))
	c := NewCard([]byte(v.D2.MRZInformation), rnd)
	eqBytes(t, d.RndIC, c.GetChallenge(), "RND.IC")
	resp, keys, err := c.ExternalAuthenticate(d.CmdData)
	noErr(t, err, "ExternalAuthenticate")
	eqBytes(t, d.RespData, resp, "E_IC ‖ M_IC")
	eqBytes(t, d.KSEnc, keys.Enc, "KSenc")
	eqBytes(t, d.KSMAC, keys.MAC, "KSmac")
	eqBytes(t, d.SSC, keys.SSC, "SSC")
	if rnd.Len() != 0 {
		t.Errorf("%d random bytes left", rnd.Len())
	}
	// The challenge is used up.
	_, _, err = c.ExternalAuthenticate(d.CmdData)
	isErr(t, err, ErrNoChallenge, "replayed EXTERNAL AUTHENTICATE")
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
			isErr(t, err, tc.target, "ExternalAuthenticate")
			if resp != nil || keys.Enc != nil {
				t.Error("answer returned with an error")
			}
		})
	}
}

// wrongMRZData is E_IFD ‖ M_IFD of the D.3 S under another document's keys.
func wrongMRZData(t *testing.T, s []byte) []byte {
	enc, mac := DeriveKeys([]byte("L898902C<369080619406237"))
	b, err := seal(enc, mac, s)
	noErr(t, err, "seal")
	return b
}

func TestCardRandomFailure(t *testing.T) {
	c := NewCard([]byte("L898902C<369080619406236"), bytes.NewReader(nil))
	if got := c.GetChallenge(); got != nil {
		t.Errorf("challenge %x from an empty source", got)
	}
	if _, _, err := c.ExternalAuthenticate(make([]byte, 40)); !errors.Is(err, ErrNoChallenge) {
		t.Errorf("after a failed challenge: %v", err)
	}
	c = NewCard([]byte("L898902C<369080619406236"), io.LimitReader(zeros{}, 8))
	if c.GetChallenge() == nil {
		t.Fatal("no challenge")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var _ icao.Transport = (*apdutest.Script)(nil)
