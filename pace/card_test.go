package pace

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

func mseCommand(info Info, ref byte) icao.Command {
	return icao.Command{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4, Data: setATData(info, ref)}
}

func gaCommand(cla byte, data []byte) icao.Command {
	return icao.Command{CLA: cla, INS: icao.InsGeneralAuthenticate, Data: data, Ne: 256}
}

// TestCardStatus checks the status words the card answers to commands it
// cannot use, and that a failed step ends the run.
func TestCardStatus(t *testing.T) {
	info := paceInfo(arcECDHGM, 2, 13)
	c, _ := standardCurve(13)
	badPoint := c.Marshal(c.g)
	badPoint[len(badPoint)-1] ^= 1
	tests := []struct {
		name string
		cmds []icao.Command // the last one's answer is checked
		want icao.StatusWord
	}{
		{name: "GA without MSE", cmds: []icao.Command{gaCommand(0x10, authObject(0, nil))}, want: icao.StatusConditionsNotMet},
		{name: "unknown instruction", cmds: []icao.Command{{INS: 0xB0}}, want: icao.StatusInsNotSupported},
		{name: "MSE wrong P1P2", cmds: []icao.Command{{INS: icao.InsMSE, P1: 0x81, P2: 0xB6, Data: setATData(info, refMRZ)}}, want: icao.StatusIncorrectP1P2},
		{name: "MSE protocol not offered", cmds: []icao.Command{mseCommand(paceInfo(arcECDHIM, 2, 13), refMRZ)}, want: icao.StatusWrongData},
		{name: "MSE parameter ID not offered", cmds: []icao.Command{mseCommand(paceInfo(arcECDHGM, 2, 12), refMRZ)}, want: icao.StatusRefDataNotFound},
		{name: "MSE unknown password", cmds: []icao.Command{mseCommand(info, 0x03)}, want: icao.StatusRefDataNotFound},
		{name: "MSE malformed", cmds: []icao.Command{{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4, Data: []byte{0x80, 0x05, 0x01}}}, want: icao.StatusWrongData},
		{name: "MSE without DO'84'", cmds: []icao.Command{mseCommand(Info{Protocol: info.Protocol, Version: 2, ParameterID: NoParameterID}, refMRZ)}, want: icao.StatusOK},
		{name: "GA wrong P1P2", cmds: []icao.Command{mseCommand(info, refMRZ), {CLA: 0x10, INS: icao.InsGeneralAuthenticate, P1: 1, Data: authObject(0, nil)}}, want: icao.StatusIncorrectP1P2},
		{name: "nonce request with data", cmds: []icao.Command{mseCommand(info, refMRZ), gaCommand(0x10, authObject(tagMapIFD, []byte{1}))}, want: icao.StatusWrongData},
		{name: "GA not 7C", cmds: []icao.Command{mseCommand(info, refMRZ), gaCommand(0x10, []byte{0x80, 0x00})}, want: icao.StatusWrongData},
		{name: "map key off curve", cmds: []icao.Command{mseCommand(info, refMRZ), gaCommand(0x10, authObject(0, nil)), gaCommand(0x10, authObject(tagMapIFD, badPoint))}, want: icao.StatusWrongData},
		{name: "run ends after a failure", cmds: []icao.Command{
			mseCommand(info, refMRZ), gaCommand(0x10, authObject(0, nil)), gaCommand(0x10, authObject(tagMapIFD, badPoint)),
			gaCommand(0x10, authObject(tagMapIFD, c.Marshal(c.g))),
		}, want: icao.StatusConditionsNotMet},
		{name: "map data missing", cmds: []icao.Command{mseCommand(info, refMRZ), gaCommand(0x10, authObject(0, nil)), gaCommand(0x10, authObject(tagKeyIFD, c.Marshal(c.g)))}, want: icao.StatusWrongData},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			card := newTestCard(t, combo{info: info})
			var resp icao.Response
			for _, cmd := range tc.cmds {
				r, keys, err := card.Handle(cmd)
				require.NoError(t, err, "Handle")
				require.Nil(t, keys, "Handle")
				resp = r
			}
			require.Equal(t, tc.want, resp.SW)
		})
	}
}

// TestCardRandomFailure checks that a failing random source is an error
// with status 6F00, not a panic.
func TestCardRandomFailure(t *testing.T) {
	info := paceInfo(arcECDHGM, 2, 13)
	card, err := NewCard(CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{info}, Rand: newScript()})
	require.NoError(t, err)
	mse, _, _ := card.Handle(mseCommand(info, refMRZ))
	require.Equal(t, icao.StatusOK, mse.SW, "MSE")
	resp, keys, err := card.Handle(gaCommand(0x10, authObject(0, nil)))
	require.ErrorIs(t, err, errRandom)
	require.Nil(t, keys)
	require.Equal(t, icao.StatusUnknown, resp.SW)
}

func TestNewCard(t *testing.T) {
	key, err := GenerateChipKey(13, nil)
	require.NoError(t, err)
	tests := []struct {
		name string
		cfg  CardConfig
		ok   bool
	}{
		{name: "ok", cfg: CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{paceInfo(arcECDHGM, 2, 13)}}, ok: true},
		{name: "CAM with key", cfg: CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{paceInfo(arcECDHCAM, 2, 13)}, ChipKey: key}, ok: true},
		{name: "no password", cfg: CardConfig{Infos: []Info{paceInfo(arcECDHGM, 2, 13)}}},
		{name: "zero password", cfg: CardConfig{Passwords: []Password{{}}}},
		{name: "unsupported info", cfg: CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{paceInfo(arcECDHIM, 2, 10)}}},
		{name: "CAM without key", cfg: CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{paceInfo(arcECDHCAM, 2, 13)}}},
		{name: "CAM key on another curve", cfg: CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{paceInfo(arcECDHCAM, 2, 12)}, ChipKey: key}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewCard(tc.cfg)
			if tc.ok {
				require.NoError(t, err)
				require.NotNil(t, c)
			} else {
				require.Error(t, err)
				require.Nil(t, c)
			}
		})
	}
}

func TestChipKey(t *testing.T) {
	_, err := NewChipKey(13, nil)
	require.Error(t, err, "zero scalar accepted")
	c, _ := standardCurve(13)
	_, err = NewChipKey(13, c.n.Bytes())
	require.Error(t, err, "scalar n accepted")
	_, err = NewChipKey(0, []byte{1})
	require.ErrorIs(t, err, ErrNotSupported, "DH group")
	_, err = GenerateChipKey(7, nil)
	require.ErrorIs(t, err, ErrNotSupported, "RFU ID")
	k, err := NewChipKey(13, []byte{1})
	require.NoError(t, err)
	require.Equal(t, 13, k.ParameterID(), "1·G is not G")
	require.Equal(t, c.Marshal(c.g), k.PublicKey(), "1·G is not G")
	s, err := ParseSecurityInfos(tlv.Encode(tagSet, k.PublicKeyInfo()))
	require.NoError(t, err, "PublicKeyInfo does not parse back")
	require.Len(t, s.ChipKeys, 1, "PublicKeyInfo does not parse back")
	require.Equal(t, 13, s.ChipKeys[0].KeyID, "PublicKeyInfo does not parse back")
	require.Equal(t, 13, s.ChipKeys[0].Domain.ID, "PublicKeyInfo does not parse back")
}
