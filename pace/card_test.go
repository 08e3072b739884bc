package pace

import (
	"errors"
	"testing"

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
				if err != nil || keys != nil {
					t.Fatalf("Handle: keys %v, error %v", keys, err)
				}
				resp = r
			}
			if resp.SW != tc.want {
				t.Fatalf("got %v, want %v", resp.SW, tc.want)
			}
		})
	}
}

// TestCardRandomFailure checks that a failing random source is an error
// with status 6F00, not a panic.
func TestCardRandomFailure(t *testing.T) {
	info := paceInfo(arcECDHGM, 2, 13)
	card, err := NewCard(CardConfig{Passwords: []Password{MRZ(nil)}, Infos: []Info{info}, Rand: newScript()})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _, _ := card.Handle(mseCommand(info, refMRZ)); resp.SW != icao.StatusOK {
		t.Fatalf("MSE: %v", resp.SW)
	}
	resp, keys, err := card.Handle(gaCommand(0x10, authObject(0, nil)))
	if !errors.Is(err, errRandom) || keys != nil || resp.SW != icao.StatusUnknown {
		t.Fatalf("got %v, %v, %v", resp.SW, keys, err)
	}
}

func TestNewCard(t *testing.T) {
	key, err := GenerateChipKey(13, nil)
	if err != nil {
		t.Fatal(err)
	}
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
			if tc.ok != (err == nil) || (c == nil) == tc.ok {
				t.Fatalf("got %v, %v", c, err)
			}
		})
	}
}

func TestChipKey(t *testing.T) {
	if _, err := NewChipKey(13, nil); err == nil {
		t.Fatal("zero scalar accepted")
	}
	c, _ := standardCurve(13)
	if _, err := NewChipKey(13, c.n.Bytes()); err == nil {
		t.Fatal("scalar n accepted")
	}
	if _, err := NewChipKey(0, []byte{1}); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("DH group: %v", err)
	}
	if _, err := GenerateChipKey(7, nil); !errors.Is(err, ErrNotSupported) {
		t.Fatalf("RFU ID: %v", err)
	}
	k, err := NewChipKey(13, []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if k.ParameterID() != 13 || string(k.PublicKey()) != string(c.Marshal(c.g)) {
		t.Fatal("1·G is not G")
	}
	s, err := ParseSecurityInfos(tlv.Encode(tagSet, k.PublicKeyInfo()))
	if err != nil || len(s.ChipKeys) != 1 || s.ChipKeys[0].KeyID != 13 || s.ChipKeys[0].Domain.ID != 13 {
		t.Fatalf("PublicKeyInfo does not parse back: %+v, %v", s, err)
	}
}
