package sm

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// smStep is one protected command/response pair of sm_3des.json or
// sm_aes.json.
type smStep struct {
	Step                string               `json:"step"`
	UnprotectedCommand  testvectors.HexBytes `json:"unprotected_command_hex"`
	SSCCommand          testvectors.HexBytes `json:"ssc_command_hex"`
	CC                  testvectors.HexBytes `json:"cc_hex"`
	ProtectedCommand    testvectors.HexBytes `json:"protected_command_hex"`
	ProtectedResponse   testvectors.HexBytes `json:"protected_response_hex"`
	SSCResponse         testvectors.HexBytes `json:"ssc_response_hex"`
	ResponseCC          testvectors.HexBytes `json:"response_cc_hex"`
	ResponseData        testvectors.HexBytes `json:"response_data_hex"`
	SW                  testvectors.HexBytes `json:"sw_hex"`
	EncryptedData       testvectors.HexBytes `json:"encrypted_data_hex,omitempty"`
	IVCommand           testvectors.HexBytes `json:"iv_command_hex,omitempty"`
	IVResponse          testvectors.HexBytes `json:"iv_response_hex,omitempty"`
	CommandHeaderPadded testvectors.HexBytes `json:"cmd_header_padded_hex,omitempty"`
}

type smSession struct {
	ID          string               `json:"id,omitempty"`
	Cipher      string               `json:"cipher,omitempty"`
	KSEnc       testvectors.HexBytes `json:"ks_enc_hex"`
	KSMAC       testvectors.HexBytes `json:"ks_mac_hex"`
	SSCInitial  testvectors.HexBytes `json:"ssc_initial_hex"`
	Steps       []smStep             `json:"steps"`
	FileContent testvectors.HexBytes `json:"file_content_hex,omitempty"`
	EFCOM       testvectors.HexBytes `json:"ef_com_hex,omitempty"`
	SSCFinal    testvectors.HexBytes `json:"ssc_final_hex"`
}

type smSingle struct {
	ID                 string               `json:"id"`
	Cipher             string               `json:"cipher,omitempty"`
	KSEnc              testvectors.HexBytes `json:"ks_enc_hex"`
	KSMAC              testvectors.HexBytes `json:"ks_mac_hex"`
	SSCBefore          testvectors.HexBytes `json:"ssc_before_hex"`
	UnprotectedCommand testvectors.HexBytes `json:"unprotected_command_hex"`
	SSCCommand         testvectors.HexBytes `json:"ssc_command_hex"`
	ProtectedCommand   testvectors.HexBytes `json:"protected_command_hex"`
}

func (v smSession) keys(t testing.TB) Keys {
	s := AES
	if v.Cipher == "" || v.Cipher == "3DES" {
		s = TDES
	}
	return Keys{Suite: s, Enc: v.KSEnc, MAC: v.KSMAC, SSC: v.SSCInitial}
}

// loadSessions returns every SM session in the vector files: the D.4 3DES
// session and the AES sessions.
func loadSessions(t testing.TB) []smSession {
	var d4 smSession
	testvectors.Load(t, "sm_3des.json", &d4)
	d4.ID = "icao_d4_3des"
	var aes struct {
		Sessions []smSession `json:"sessions"`
	}
	testvectors.Load(t, "sm_aes.json", &aes)
	require.NotEmpty(t, d4.Steps, "vectors: D.4 steps")
	require.Len(t, aes.Sessions, 2, "vectors: AES sessions")
	return append([]smSession{d4}, aes.Sessions...)
}

// TestVectorSessions runs every vector session through a Session with a
// scripted chip: the protected commands must match byte for byte, the
// responses must unwrap to the printed data and status, and the SSC must
// end where the vectors say.
func TestVectorSessions(t *testing.T) {
	for _, v := range loadSessions(t) {
		t.Run(v.ID, func(t *testing.T) {
			sc := apdutest.NewScript(t)
			for _, st := range v.Steps {
				sc.Add(apdutest.Exchange{Cmd: st.ProtectedCommand, Resp: st.ProtectedResponse})
			}
			s, err := NewSession(sc, v.keys(t))
			require.NoError(t, err)
			var file []byte
			for _, st := range v.Steps {
				resp, err := s.Transmit(context.Background(), st.UnprotectedCommand)
				require.NoError(t, err, st.Step)
				want := append(append([]byte(nil), st.ResponseData...), st.SW...)
				assert.Equal(t, want, resp, st.Step)
				assert.Equal(t, []byte(st.SSCResponse), sscOf(s), st.Step)
				file = append(file, st.ResponseData...)
			}
			assert.Equal(t, []byte(v.SSCFinal), sscOf(s))
			content := v.FileContent
			if content == nil {
				content = v.EFCOM
			}
			assert.Equal(t, []byte(content), file)
		})
	}
}

// TestVectorSessionsExchange reads the vector files through icao.Exchange
// on top of the Session, the way the reading code will.
func TestVectorSessionsExchange(t *testing.T) {
	for _, v := range loadSessions(t) {
		t.Run(v.ID, func(t *testing.T) {
			sc := apdutest.NewScript(t)
			for _, st := range v.Steps {
				sc.Add(apdutest.Exchange{Cmd: st.ProtectedCommand, Resp: st.ProtectedResponse})
			}
			s, err := NewSession(sc, v.keys(t))
			require.NoError(t, err)
			for _, st := range v.Steps {
				cmd, err := icao.ParseCommand(st.UnprotectedCommand)
				require.NoError(t, err)
				r, err := icao.Exchange(context.Background(), s, cmd)
				require.NoError(t, err, st.Step)
				assert.Equal(t, []byte(st.ResponseData), r.Data)
			}
		})
	}
}

// TestVectorCard plays the chip side of every vector session: each printed
// protected command must unwrap to the plain command and each plain
// response must wrap to the printed protected response.
func TestVectorCard(t *testing.T) {
	for _, v := range loadSessions(t) {
		t.Run(v.ID, func(t *testing.T) {
			c, err := NewCard(v.keys(t))
			require.NoError(t, err)
			for _, st := range v.Steps {
				plain, err := c.Unwrap(st.ProtectedCommand)
				require.NoError(t, err, st.Step)
				assert.Equal(t, []byte(st.UnprotectedCommand), plain, st.Step)
				rapdu := append(append([]byte(nil), st.ResponseData...), st.SW...)
				out, err := c.Wrap(rapdu)
				require.NoError(t, err, st.Step)
				assert.Equal(t, []byte(st.ProtectedResponse), out, st.Step)
			}
			assert.Equal(t, []byte(v.SSCFinal), c.ch.counter())
		})
	}
}

// TestVectorIntermediates checks the printed IVs, cryptograms and MACs
// with the channel primitives.
func TestVectorIntermediates(t *testing.T) {
	for _, v := range loadSessions(t) {
		t.Run(v.ID, func(t *testing.T) {
			ch, err := newChannel(v.keys(t))
			require.NoError(t, err)
			for _, st := range v.Steps {
				copy(ch.ssc[:], st.SSCCommand)
				if st.IVCommand != nil {
					iv, err := ch.iv()
					require.NoError(t, err)
					assert.Equal(t, []byte(st.IVCommand), iv, st.Step)
				}
				if st.EncryptedData != nil {
					cmd, err := icao.ParseCommand(st.UnprotectedCommand)
					require.NoError(t, err)
					ct, err := ch.encrypt(cmd.Data)
					require.NoError(t, err)
					assert.Equal(t, []byte(st.EncryptedData), ct, st.Step)
				}
				copy(ch.ssc[:], st.SSCResponse)
				if st.IVResponse != nil {
					iv, err := ch.iv()
					require.NoError(t, err)
					assert.Equal(t, []byte(st.IVResponse), iv, st.Step)
				}
			}
		})
	}
}

// TestVectorSingleCommand protects the AES-128 MSE:Set AT of sm_aes.json;
// the chip behind the script is a Card that checks the same bytes from its
// side and answers 9000.
func TestVectorSingleCommand(t *testing.T) {
	var f struct {
		Single []smSingle `json:"single_commands"`
	}
	testvectors.Load(t, "sm_aes.json", &f)
	require.NotEmpty(t, f.Single, "vectors: no single commands")
	for _, v := range f.Single {
		t.Run(v.ID, func(t *testing.T) {
			k := Keys{Suite: AES, Enc: v.KSEnc, MAC: v.KSMAC, SSC: v.SSCBefore}
			s, c := pair(t, k, func(icao.Command) icao.Response { return icao.Response{SW: icao.StatusOK} })
			resp, err := s.Transmit(context.Background(), v.UnprotectedCommand)
			require.NoError(t, err)
			assert.Equal(t, []byte{0x90, 0}, resp, "response")
			require.Len(t, c.protected, 1, "protected commands the chip saw")
			require.Len(t, c.plain, 1, "plain commands the chip saw")
			assert.Equal(t, []byte(v.ProtectedCommand), c.protected[0])
			plain, err := c.plain[0].Marshal()
			require.NoError(t, err)
			assert.Equal(t, []byte(v.UnprotectedCommand), plain)
		})
	}
}
