package vchip_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
	"github.com/nfcbridge/nfcbridge/sm"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// bacVectors is the part of bac.json (9303-11 Appendix D.2, D.3) the chip
// side reproduces.
type bacVectors struct {
	D2 struct {
		MRZInformation string `json:"mrz_information"`
	} `json:"d2_document_basic_access_keys"`
	D3 struct {
		GetChallengeCommand  string `json:"get_challenge_command_hex"`
		GetChallengeResponse string `json:"get_challenge_response_hex"`
		RndIC                string `json:"rnd_ic_hex"`
		KIC                  string `json:"k_ic_hex"`
		ExtAuthCommand       string `json:"external_authenticate_command_hex"`
		ExtAuthResponse      string `json:"external_authenticate_response_hex"`
		KSEnc                string `json:"ks_enc_hex"`
		KSMac                string `json:"ks_mac_hex"`
		SSC                  string `json:"ssc_hex"`
	} `json:"d3_mutual_authentication"`
}

// smVectors is sm_3des.json (9303-11 Appendix D.4).
type smVectors struct {
	Steps []struct {
		Step     string `json:"step"`
		Command  string `json:"protected_command_hex"`
		Response string `json:"protected_response_hex"`
	} `json:"steps"`
	EFCOM    string `json:"ef_com_hex"`
	SSCFinal string `json:"ssc_final_hex"`
}

// appendixD returns a chip in the state of 9303-11 Appendix D: the D.2 key,
// the D.4 EF.COM, a filler DG2 of dg2Len bytes, and a random source that
// yields D.3's RND.IC and K.IC.
func appendixD(t *testing.T, cfg vchip.Config, dg2Len int) (*vchip.Passport, bacVectors, smVectors) {
	t.Helper()
	var bv bacVectors
	var sv smVectors
	testvectors.Load(t, "bac.json", &bv)
	testvectors.Load(t, "sm_3des.json", &sv)
	dg2 := make([]byte, dg2Len)
	copy(dg2, []byte{0x75, 0x82, byte((dg2Len - 4) >> 8), byte(dg2Len - 4)})
	for i := 4; i < dg2Len; i++ {
		dg2[i] = byte(i)
	}
	ds := &vchip.Dataset{
		Files:          map[string][]byte{vchip.NameCOM: testvectors.Hex(t, sv.EFCOM), "DG2": dg2},
		MRZInformation: []byte(bv.D2.MRZInformation),
	}
	cfg.Rand = bytes.NewReader(append(testvectors.Hex(t, bv.D3.RndIC), testvectors.Hex(t, bv.D3.KIC)...))
	return newPassport(t, ds, &cfg), bv, sv
}

// TestAppendixD replays the BAC and secure messaging worked example of
// 9303-11 Appendix D.3 and D.4 against the chip: every response must be
// the published bytes.
func TestAppendixD(t *testing.T) {
	p, bv, sv := appendixD(t, vchip.Config{}, 1000)
	wantSW(t, p, selectApp(), icao.StatusOK)
	exchanges := []struct{ name, cmd, resp string }{
		{"GET CHALLENGE", bv.D3.GetChallengeCommand, bv.D3.GetChallengeResponse},
		{"EXTERNAL AUTHENTICATE", bv.D3.ExtAuthCommand, bv.D3.ExtAuthResponse},
	}
	for _, st := range sv.Steps {
		exchanges = append(exchanges, struct{ name, cmd, resp string }{st.Step, st.Command, st.Response})
	}
	for _, x := range exchanges {
		got, err := p.Transmit(context.Background(), testvectors.Hex(t, x.cmd))
		require.NoError(t, err, x.name)
		require.Equal(t, testvectors.Hex(t, x.resp), got, x.name)
	}
}

// tdesTerminal protects commands by hand with the Appendix D session keys,
// so that tests can send what sm.Session never sends (a short protected
// APDU asking for 256 plain bytes, as gmrtd does).
type tdesTerminal struct {
	enc, mac []byte
	ssc      [8]byte
}

func (k *tdesTerminal) inc() {
	for i := len(k.ssc) - 1; i >= 0; i-- {
		k.ssc[i]++
		if k.ssc[i] != 0 {
			return
		}
	}
}

// protect returns the short protected form of cmd (Ne ≤ 256) with outer
// Le 00, and counts the response's SSC step.
func (k *tdesTerminal) protect(t *testing.T, cmd icao.Command) []byte {
	t.Helper()
	k.inc()
	header := []byte{0x0C, cmd.INS, cmd.P1, cmd.P2, 0x80, 0, 0, 0}
	var dos []byte
	if len(cmd.Data) > 0 {
		padded := append(append([]byte(nil), cmd.Data...), 0x80)
		for len(padded)%8 != 0 {
			padded = append(padded, 0)
		}
		ct, err := sm.EncryptCBC(sm.TDES, k.enc, nil, padded)
		require.NoError(t, err)
		dos = append([]byte{0x87, byte(1 + len(ct)), 0x01}, ct...)
	}
	if cmd.Ne > 0 {
		dos = append(dos, 0x97, 0x01, byte(cmd.Ne))
	}
	mac, err := sm.Checksum(sm.TDES, k.mac, append(append(k.ssc[:], header...), dos...))
	require.NoError(t, err)
	body := append(append(dos, 0x8E, 0x08), mac...)
	k.inc() // the response
	return append(append([]byte{0x0C, cmd.INS, cmd.P1, cmd.P2, byte(len(body))}, body...), 0x00)
}

// TestStrictOuterLe sends READ BINARY for 256 plain bytes in a short
// protected APDU: the protected answer (283 data bytes) exceeds the outer
// Le of 256. A tolerant chip answers anyway; a strict one refuses.
func TestStrictOuterLe(t *testing.T) {
	tests := []struct {
		name    string
		strict  bool
		ne      int
		wantSW  icao.StatusWord
		wantLen int // of the raw protected response
	}{
		{"tolerant Le 256", false, 256, icao.StatusOK, 4 + 1 + 264 + 4 + 10 + 2}, // 87 82 01 09 01 …
		{"strict Le 256", true, 256, icao.StatusWrongLength, 4 + 10 + 2},
		{"strict Le 232", true, 232, icao.StatusWrongLength, 4 + 10 + 2},
		{"strict Le 231", true, 231, icao.StatusOK, 3 + 1 + 232 + 4 + 10 + 2}, // 87 81 E9 01 …
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, bv, _ := appendixD(t, vchip.Config{StrictOuterLe: tc.strict}, 1000)
			wantSW(t, p, selectApp(), icao.StatusOK)
			for _, c := range []string{bv.D3.GetChallengeCommand, bv.D3.ExtAuthCommand} {
				_, err := p.Transmit(context.Background(), testvectors.Hex(t, c))
				require.NoError(t, err)
			}
			term := &tdesTerminal{enc: testvectors.Hex(t, bv.D3.KSEnc), mac: testvectors.Hex(t, bv.D3.KSMac)}
			copy(term.ssc[:], testvectors.Hex(t, bv.D3.SSC))
			for _, cmd := range []icao.Command{selectEF(0x0102), readAt(0, tc.ne)} {
				out, err := p.Transmit(context.Background(), term.protect(t, cmd))
				require.NoError(t, err)
				r, _ := icao.ParseResponse(out)
				if cmd.INS == icao.InsSelect {
					require.Equal(t, icao.StatusOK, r.SW, "protected SELECT answered % X", out)
					require.Len(t, out, 16, "protected SELECT answered % X", out)
					continue
				}
				require.Equal(t, tc.wantSW, r.SW, "answer of %d bytes", len(out))
				require.Len(t, out, tc.wantLen, "answer with %04X", uint16(r.SW))
			}
		})
	}
}
