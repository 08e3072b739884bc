package vchip_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// TestBeforeBAC sends commands to a freshly powered chip, plain: every LDS
// read is refused with 6982 (gmrtd#226), the application and BAC are open.
func TestBeforeBAC(t *testing.T) {
	tests := []struct {
		name     string
		inApp    bool // select the eMRTD application first
		cmd      icao.Command
		raw      []byte // sent instead of cmd when set
		want     icao.StatusWord
		wantData []byte
	}{
		{name: "select application", cmd: selectApp(), want: icao.StatusOK},
		{name: "select application with Le", cmd: icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid, Ne: 256}, want: icao.StatusOK},
		{name: "select application FCI", cmd: icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x00, Data: aid, Ne: 256}, want: icao.StatusOK,
			wantData: append([]byte{0x6F, 0x09, 0x84, 0x07}, aid...)},
		{name: "select application FCI cut to Le", cmd: icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x00, Data: aid, Ne: 2}, want: icao.StatusOK,
			wantData: []byte{0x6F, 0x09}},
		{name: "select other application", cmd: icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: []byte{0xA0, 0, 0, 2, 0x47, 0x10, 2}}, want: icao.StatusFileNotFound},
		{name: "select MF", cmd: icao.Command{INS: icao.InsSelect, P2: 0x0C, Data: []byte{0x3F, 0x00}}, want: icao.StatusOK},
		{name: "select MF implicit", cmd: icao.Command{INS: icao.InsSelect, P2: 0x0C}, want: icao.StatusOK},
		{name: "select EF.CardAccess absent", cmd: selectEF(0x011C), want: icao.StatusFileNotFound},
		{name: "read EF.CardAccess absent", cmd: readSFI(0x1C, 0, 8), want: icao.StatusFileNotFound},
		{name: "select EF.COM", inApp: true, cmd: selectEF(0x011E), want: icao.StatusSecurityNotSatisfied},
		{name: "select EF.COM P1 00", inApp: true, cmd: icao.Command{INS: icao.InsSelect, P2: 0x0C, Data: []byte{0x01, 0x1E}}, want: icao.StatusSecurityNotSatisfied},
		{name: "select EF.SOD", inApp: true, cmd: selectEF(0x011D), want: icao.StatusSecurityNotSatisfied},
		{name: "select DG1", inApp: true, cmd: selectEF(0x0101), want: icao.StatusSecurityNotSatisfied},
		{name: "select DG2", inApp: true, cmd: selectEF(0x0102), want: icao.StatusSecurityNotSatisfied},
		{name: "select DG3 absent", inApp: true, cmd: selectEF(0x0103), want: icao.StatusFileNotFound},
		{name: "read EF.COM by SFI", inApp: true, cmd: readSFI(0x1E, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "read DG1 by SFI", inApp: true, cmd: readSFI(0x01, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "read DG2 by SFI", inApp: true, cmd: readSFI(0x02, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "odd read DG2 by FID", inApp: true, cmd: readOdd(0x0102, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "odd read EF.SOD by SFI", inApp: true, cmd: readOdd(0x001D, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "read without current EF", inApp: true, cmd: readAt(0, 8), want: 0x6986},
		{name: "get challenge", cmd: icao.Command{INS: icao.InsGetChallenge, Ne: 8}, want: icao.StatusOK},
		{name: "get challenge Le 16", cmd: icao.Command{INS: icao.InsGetChallenge, Ne: 16}, want: icao.StatusWrongLength},
		{name: "get challenge P1", cmd: icao.Command{INS: icao.InsGetChallenge, P1: 1, Ne: 8}, want: icao.StatusWrongP1P2},
		{name: "external authenticate without challenge", cmd: icao.Command{INS: icao.InsExternalAuthenticate, Data: make([]byte, 40), Ne: 40}, want: icao.StatusConditionsNotMet},
		{name: "external authenticate short", cmd: icao.Command{INS: icao.InsExternalAuthenticate, Data: make([]byte, 39), Ne: 40}, want: icao.StatusWrongLength},
		{name: "external authenticate Le 8", cmd: icao.Command{INS: icao.InsExternalAuthenticate, Data: make([]byte, 40), Ne: 8}, want: icao.StatusWrongLength},
		{name: "internal authenticate", cmd: icao.Command{INS: icao.InsInternalAuthenticate, Data: make([]byte, 8), Ne: 256}, want: icao.StatusInsNotSupported},
		{name: "MSE set AT", cmd: icao.Command{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4, Data: []byte{0x80, 0}}, want: icao.StatusInsNotSupported},
		{name: "select P1 08", cmd: icao.Command{INS: icao.InsSelect, P1: 0x08, P2: 0x0C, Data: []byte{0x01, 0x1C}}, want: icao.StatusIncorrectP1P2},
		{name: "select P2 02", cmd: icao.Command{INS: icao.InsSelect, P1: 0x04, P2: 0x02, Data: aid}, want: icao.StatusIncorrectP1P2},
		{name: "select EF 3 bytes", inApp: true, cmd: icao.Command{INS: icao.InsSelect, P1: 0x02, P2: 0x0C, Data: []byte{1, 1, 1}}, want: icao.StatusLcInconsistent},
		{name: "proprietary class", cmd: icao.Command{CLA: 0x80, INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}, want: icao.StatusClaNotSupported},
		{name: "PC/SC pseudo-APDU", cmd: icao.Command{CLA: 0xFF, INS: 0xCA, Ne: 256}, want: icao.StatusClaNotSupported},
		{name: "chaining", cmd: icao.Command{CLA: 0x10, INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}, want: 0x6884},
		{name: "logical channel 1", cmd: icao.Command{CLA: 0x01, INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}, want: 0x6881},
		{name: "logical channel 4", cmd: icao.Command{CLA: 0x40, INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}, want: 0x6881},
		{name: "proprietary SM", cmd: icao.Command{CLA: 0x04, INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}, want: 0x6882},
		{name: "SM without session", inApp: true, cmd: icao.Command{CLA: 0x0C, INS: icao.InsReadBinary, P1: 0x81, Ne: 8}, want: icao.StatusSMObjectsIncorrect},
		{name: "Lc longer than data", raw: []byte{0x00, 0xA4, 0x04, 0x0C, 0x08, 0xA0, 0x00}, want: icao.StatusWrongLength},
		{name: "header only", raw: []byte{0x00, 0xB0, 0x00, 0x00}, inApp: true, want: 0x6986},
		{name: "three bytes", raw: []byte{0x00, 0xB0, 0x00}, want: icao.StatusWrongLength},
	}
	ds := loadSpecimen(t, "specimen-20k")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPassport(t, ds, nil)
			if tc.inApp {
				wantSW(t, p, selectApp(), icao.StatusOK)
			}
			raw := tc.raw
			if raw == nil {
				var err error
				raw, err = tc.cmd.Marshal()
				require.NoError(t, err)
			}
			out, err := p.Transmit(context.Background(), raw)
			require.NoError(t, err)
			resp, err := icao.ParseResponse(out)
			require.NoError(t, err)
			assert.Equal(t, tc.want, resp.SW, "status")
			if tc.wantData != nil {
				assert.Equal(t, tc.wantData, resp.Data)
			}
			if tc.want == icao.StatusOK && tc.cmd.INS == icao.InsGetChallenge {
				assert.Len(t, resp.Data, 8, "challenge")
			}
		})
	}
}

func TestBAC(t *testing.T) {
	wrongKey := []byte("L898902C<369080619406236") // the 9303-11 D.2 key, not the specimen's
	tests := []struct {
		name    string
		cfg     vchip.Config
		key     []byte
		wantErr error
		wantSW  icao.StatusWord
	}{
		{name: "right MRZ", key: nil},
		{name: "wrong MRZ", key: wrongKey, wantErr: bac.ErrAccessDenied, wantSW: icao.StatusAuthFailed},
		{name: "wrong MRZ 6985", cfg: vchip.Config{AuthFailStatus: icao.StatusConditionsNotMet}, key: wrongKey,
			wantErr: bac.ErrAccessDenied, wantSW: icao.StatusConditionsNotMet},
		{name: "PACE-only chip", cfg: vchip.Config{NoBAC: true}, wantErr: bac.ErrNotSupported, wantSW: icao.StatusRefDataNotFound},
		{name: "PACE-only chip 6985", cfg: vchip.Config{NoBAC: true, NoBACStatus: icao.StatusConditionsNotMet},
			wantErr: bac.ErrNotSupported, wantSW: icao.StatusConditionsNotMet},
	}
	ds := loadSpecimen(t, "specimen-20k")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPassport(t, ds, &tc.cfg)
			wantSW(t, p, selectApp(), icao.StatusOK)
			key := tc.key
			if key == nil {
				key = specimenKey(t)
			}
			s, err := bac.Open(context.Background(), p, key, nil)
			require.ErrorIs(t, err, tc.wantErr, "BAC")
			if tc.wantErr != nil {
				sw, _ := errors.AsType[icao.StatusWord](err)
				assert.Equal(t, tc.wantSW, sw, "BAC status")
				// Whatever failed, LDS files stay closed.
				wantSW(t, p, selectEF(0x0101), icao.StatusSecurityNotSatisfied)
				return
			}
			resp := wantSW(t, s, readSFI(0x01, 0, 256), icao.StatusOK)
			assert.Equal(t, ds.Files["DG1"], resp.Data, "DG1 read under SM")
		})
	}
}

// TestSessionEnds checks the ways secure messaging ends (9303-11
// §9.8.6.1): an SM error, a plain command, a power cycle. Each leaves the
// LDS closed until BAC is done again.
func TestSessionEnds(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	tests := []struct {
		name string
		cfg  vchip.Config
		end  func(t *testing.T, p *vchip.Passport, rec *recorder, s *sm.Session)
	}{
		{"bad MAC", vchip.Config{}, func(t *testing.T, p *vchip.Passport, rec *recorder, s *sm.Session) {
			rec.corrupt = true
			_, err := icao.Exchange(context.Background(), s, selectEF(0x011E))
			require.ErrorIs(t, err, sm.ErrDropped, "corrupted command")
			require.Equal(t, []byte{0x69, 0x88}, rec.last, "chip answer, want unprotected 6988")
		}},
		{"plain command", vchip.Config{}, func(t *testing.T, p *vchip.Passport, rec *recorder, s *sm.Session) {
			wantSW(t, rec, readSFI(0x01, 0, 8), icao.StatusSecurityNotSatisfied)
		}},
		{"plain command 6987", vchip.Config{PlainAfterSM: icao.StatusSMObjectsMissing}, func(t *testing.T, p *vchip.Passport, rec *recorder, s *sm.Session) {
			wantSW(t, rec, selectApp(), icao.StatusSMObjectsMissing)
		}},
		{"reset", vchip.Config{}, func(t *testing.T, p *vchip.Passport, rec *recorder, s *sm.Session) {
			p.Reset()
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, rec, s := session(t, ds, &tc.cfg)
			wantSW(t, s, selectEF(0x011E), icao.StatusOK)
			tc.end(t, p, rec, s)
			// The chip has no session: a protected command is refused
			// unprotected, which ends the terminal's session too.
			_, err := icao.Exchange(context.Background(), s, readAt(0, 4))
			require.True(t, errors.Is(err, sm.ErrDropped) || errors.Is(err, icao.ErrSM), "protected command after the end: %v, want an SM error", err)
			wantSW(t, rec, selectApp(), icao.StatusOK)
			wantSW(t, rec, readSFI(0x1E, 0, 8), icao.StatusSecurityNotSatisfied)
			s2 := openBAC(t, rec)
			resp := wantSW(t, s2, readSFI(0x1E, 0, 256), icao.StatusOK)
			assert.Equal(t, ds.Files[vchip.NameCOM], resp.Data, "EF.COM after re-authentication")
		})
	}
}

// TestReBACWhileSecured checks that a terminal can start BAC again while a
// session is on: the plain GET CHALLENGE ends the old session.
func TestReBACWhileSecured(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	_, rec, s := session(t, ds, nil)
	wantSW(t, s, selectEF(0x0101), icao.StatusOK)
	s2 := openBAC(t, rec)
	wantSW(t, s2, readAt(0, 4), icao.StatusOK) // the selection survives
	_, err := icao.Exchange(context.Background(), s, readAt(0, 4))
	assert.Error(t, err, "the old session still works")
}

// TestBACCommandsUnderSM checks that BAC cannot be run inside secure
// messaging.
func TestBACCommandsUnderSM(t *testing.T) {
	ds := loadSpecimen(t, "specimen-20k")
	_, rec, s := session(t, ds, nil)
	wantSW(t, s, icao.Command{INS: icao.InsGetChallenge, Ne: 8}, icao.StatusConditionsNotMet)
	assert.True(t, rec.protected(), "refusal was not protected")
	wantSW(t, s, icao.Command{INS: icao.InsExternalAuthenticate, Data: make([]byte, 40), Ne: 40}, icao.StatusConditionsNotMet)
	wantSW(t, s, readSFI(0x1E, 0, 4), icao.StatusOK)
}

func TestCardAccess(t *testing.T) {
	base := loadSpecimen(t, "specimen-20k")
	// A PACEInfo for ECDH GM AES-128 on brainpoolP256r1 (9303-11 §9.2.1).
	cardAccess := []byte{0x31, 0x14, 0x30, 0x12, 0x06, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x0D}
	ds := &vchip.Dataset{Files: map[string][]byte{vchip.NameCardAccess: cardAccess}}
	for name, data := range base.Files {
		ds.Files[name] = data
	}
	p := newPassport(t, ds, nil)
	got := wantSW(t, p, readSFI(0x1C, 0, 256), icao.StatusOK).Data
	assert.Equal(t, cardAccess, got, "EF.CardAccess by SFI")
	wantSW(t, p, selectEF(0x011C), icao.StatusOK)
	got = wantSW(t, p, readAt(2, 2), icao.StatusOK).Data
	assert.Equal(t, cardAccess[2:4], got, "EF.CardAccess at 2")
	fcp := wantSW(t, p, icao.Command{INS: icao.InsSelect, P1: 0x02, P2: 0x04, Data: []byte{0x01, 0x1C}, Ne: 256}, icao.StatusOK).Data
	// Size 22, transparent working EF, FID 011C, SFI 1C (ISO/IEC 7816-4 §7.4.3).
	wantFCP := []byte{0x62, 0x0E, 0x80, 0x02, 0x00, 0x16, 0x82, 0x01, 0x01, 0x83, 0x02, 0x01, 0x1C, 0x88, 0x01, 0xE0}
	assert.Equal(t, wantFCP, fcp, "FCP")
	wantSW(t, p, selectApp(), icao.StatusOK)
	wantSW(t, p, selectEF(0x011C), icao.StatusFileNotFound) // EF.CardAccess lives in the MF

	q := newPassport(t, ds, &vchip.Config{CardAccessDeactivated: true})
	wantSW(t, q, selectEF(0x011C), 0x6283)
	wantSW(t, q, readAt(0, 8), 0x6986)
	wantSW(t, q, readSFI(0x1C, 0, 8), icao.StatusFileNotFound)
}
