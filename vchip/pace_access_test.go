package vchip_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// counter counts the GENERAL AUTHENTICATE commands that reach the chip.
type counter struct {
	t       icao.Transport
	general int
}

func (c *counter) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if len(capdu) > 1 && capdu[1] == icao.InsGeneralAuthenticate {
		c.general++
	}
	return c.t.Transmit(ctx, capdu)
}

// mseSetAT is MSE:Set AT for ECDH-GM-AES-128 with the MRZ on
// brainpoolP256r1 (9303-11 §4.4.4.1), as pace.Open sends it.
func mseSetAT(ne int) icao.Command {
	data := []byte{0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x83, 0x01, 0x01, 0x84, 0x01, 0x0D}
	return icao.Command{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4, Data: data, Ne: ne}
}

// gaNonce is the first GENERAL AUTHENTICATE of PACE: an empty 7C.
func gaNonce() icao.Command {
	return icao.Command{CLA: 0x10, INS: icao.InsGeneralAuthenticate, Data: []byte{0x7C, 0x00}, Ne: 256}
}

// TestPACEBeforeAuth sends PACE and LDS commands to a fresh chip that
// offers PACE and BAC: EF.CardAccess is readable, the LDS is not, and the
// PACE commands are answered in sequence only.
func TestPACEBeforeAuth(t *testing.T) {
	tests := []struct {
		name  string
		cfg   vchip.Config
		setup []icao.Command // sent first, each must answer 9000
		cmd   icao.Command
		want  icao.StatusWord
	}{
		{name: "read EF.CardAccess by SFI", cmd: readSFI(0x1C, 0, 256), want: icao.StatusOK},
		{name: "select EF.CardAccess", cmd: selectEF(0x011C), want: icao.StatusOK},
		{name: "read EF.COM", setup: []icao.Command{selectApp()}, cmd: readSFI(0x1E, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "read DG14", setup: []icao.Command{selectApp()}, cmd: readSFI(0x0E, 0, 8), want: icao.StatusSecurityNotSatisfied},
		{name: "MSE:Set AT", cmd: mseSetAT(0), want: icao.StatusOK},
		{name: "MSE:Set AT with Le", cmd: mseSetAT(256), want: icao.StatusOK},
		{name: "MSE:Set AT with Le refused", cfg: vchip.Config{RejectSelectLe: true}, cmd: mseSetAT(256), want: icao.StatusWrongLength},
		{name: "MSE:Set AT without Le, Le refused", cfg: vchip.Config{RejectSelectLe: true}, cmd: mseSetAT(0), want: icao.StatusOK},
		{name: "MSE:Set AT in the application", setup: []icao.Command{selectApp()}, cmd: mseSetAT(0), want: icao.StatusOK},
		{name: "MSE:Set AT, protocol not offered", cmd: icao.Command{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4,
			Data: []byte{0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x01, 0x02, 0x83, 0x01, 0x01}}, want: icao.StatusWrongData},
		{name: "MSE:Set AT, PIN", cmd: icao.Command{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4,
			Data: []byte{0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x83, 0x01, 0x03}}, want: icao.StatusRefDataNotFound},
		{name: "MSE:Set AT, CAN not set", cmd: icao.Command{INS: icao.InsMSE, P1: 0xC1, P2: 0xA4,
			Data: []byte{0x80, 0x0A, 0x04, 0x00, 0x7F, 0x00, 0x07, 0x02, 0x02, 0x04, 0x02, 0x02, 0x83, 0x01, 0x02}}, want: icao.StatusRefDataNotFound},
		{name: "GENERAL AUTHENTICATE without MSE", cmd: gaNonce(), want: icao.StatusConditionsNotMet},
		{name: "GENERAL AUTHENTICATE", setup: []icao.Command{mseSetAT(0)}, cmd: gaNonce(), want: icao.StatusOK},
		{name: "GENERAL AUTHENTICATE after GET CHALLENGE", setup: []icao.Command{mseSetAT(0), {INS: icao.InsGetChallenge, Ne: 8}},
			cmd: gaNonce(), want: icao.StatusOK},
		{name: "EXTERNAL AUTHENTICATE after MSE", setup: []icao.Command{{INS: icao.InsGetChallenge, Ne: 8}, mseSetAT(0)},
			cmd: icao.Command{INS: icao.InsExternalAuthenticate, Data: make([]byte, 40), Ne: 40}, want: icao.StatusConditionsNotMet},
		{name: "GENERAL AUTHENTICATE step 2 malformed", setup: []icao.Command{mseSetAT(0), gaNonce()},
			cmd: icao.Command{CLA: 0x10, INS: icao.InsGeneralAuthenticate, Data: []byte{0x7C, 0x03, 0x81, 0x01, 0x04}, Ne: 256}, want: icao.StatusWrongData},
		{name: "chained SELECT", cmd: icao.Command{CLA: 0x10, INS: icao.InsSelect, P1: 0x04, P2: 0x0C, Data: aid}, want: 0x6884},
		{name: "PACE fails at step 1", cfg: vchip.Config{PACEFailStep: 1}, setup: []icao.Command{mseSetAT(0)}, cmd: gaNonce(), want: icao.StatusWrongData},
		{name: "PACE fails at step 1 with 6985", cfg: vchip.Config{PACEFailStep: 1, PACEFailStatus: icao.StatusConditionsNotMet},
			setup: []icao.Command{mseSetAT(0)}, cmd: gaNonce(), want: icao.StatusConditionsNotMet},
	}
	ds := loadSpecimen(t, "specimen-pace-gm-bp256")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPassport(t, ds, &tc.cfg)
			for _, cmd := range tc.setup {
				wantSW(t, p, cmd, icao.StatusOK)
			}
			wantSW(t, p, tc.cmd, tc.want)
		})
	}
}

// TestPACEBACOnlyChip: a chip without EF.CardAccess does not know the PACE
// commands; one whose EF.CardAccess offers nothing it runs refuses them.
func TestPACEBACOnlyChip(t *testing.T) {
	wantSW(t, newPassport(t, loadSpecimen(t, "specimen-20k"), nil), mseSetAT(0), icao.StatusInsNotSupported)
	wantSW(t, newPassport(t, loadSpecimen(t, "specimen-20k"), nil), gaNonce(), icao.StatusInsNotSupported)

	// CAM without the chip's private key, as in a dataset read from a
	// real chip; and an EF.CardAccess that does not parse.
	for name, ca := range map[string][]byte{
		"CAM without key": pace.EncodeCardAccess([]pace.Info{mustInfo(t, "ECDH-CAM-AES-128/brainpoolP256r1")}),
		"garbage":         {0x31, 0x05, 0x30, 0x03, 0x06, 0x01},
	} {
		t.Run(name, func(t *testing.T) {
			ds := withPACE(t, "ECDH-GM-AES-128/P-256", "")
			ds.Files[vchip.NameCardAccess] = ca
			p := newPassport(t, ds, nil)
			assert.Empty(t, names(p.PACEInfos()), "the chip runs offers")
			wantSW(t, p, mseSetAT(0), icao.StatusWrongData)
			wantSW(t, p, gaNonce(), icao.StatusConditionsNotMet)
			s := openBAC(t, p) // BAC is unaffected
			wantSW(t, s, selectApp(), icao.StatusOK)
		})
	}
}

func mustInfo(t testing.TB, s string) pace.Info {
	t.Helper()
	i, err := vchip.ParsePACEInfo(s)
	require.NoError(t, err)
	return i
}

// TestPACEWrongPassword: a wrong MRZ or CAN gets 6300 at the last step,
// pace.ErrAccessDenied, and no session; the right one works afterwards.
func TestPACEWrongPassword(t *testing.T) {
	wrongCAN, err := pace.CAN("654321")
	require.NoError(t, err)
	for name, pw := range map[string]pace.Password{
		"MRZ": pace.MRZ([]byte("L898902C<369080619406236")), // the 9303-11 D.2 key, not the specimen's
		"CAN": wrongCAN,
	} {
		t.Run(name, func(t *testing.T) {
			ds := withPACE(t, "ECDH-GM-AES-128/brainpoolP256r1", specimenCAN)
			p := newPassport(t, ds, nil)
			c := &counter{t: p}
			_, err := openPACE(t, c, pw)
			require.ErrorIs(t, err, pace.ErrAccessDenied, "PACE with a wrong %s", name)
			require.ErrorIs(t, err, icao.StatusWord(icao.StatusAuthFailed), "PACE with a wrong %s", name)
			assert.Equal(t, 4, c.general, "GENERAL AUTHENTICATE commands")
			wantSW(t, p, selectApp(), icao.StatusOK)
			wantSW(t, p, readSFI(0x1E, 0, 8), icao.StatusSecurityNotSatisfied)
			res, err := openPACE(t, p, password(t, name))
			require.NoError(t, err, "PACE with the right %s after a wrong one", name)
			readLDS(t, res.Session, ds, icao.EFCOM)
		})
	}
}

// TestPACEFailStep makes the chip refuse each GENERAL AUTHENTICATE step:
// the terminal fails at that step with the error 9303-11 §4.4.4 gives it,
// and falls back to BAC on a chip that offers both.
func TestPACEFailStep(t *testing.T) {
	tests := []struct {
		step    int
		status  icao.StatusWord
		wantErr error
	}{
		{1, 0, pace.ErrNotSupported},
		{2, 0, icao.StatusWord(icao.StatusWrongData)},
		{3, 0, icao.StatusWord(icao.StatusWrongData)},
		{4, 0, pace.ErrAccessDenied},                     // dmrtd#36, SK passport: 6A80
		{4, icao.StatusAuthFailed, pace.ErrAccessDenied}, // dmrtd#33, GR passport: 6300
		{3, icao.StatusConditionsNotMet, icao.ErrConditionsNotMet},
	}
	ds := loadSpecimen(t, "specimen-pace-gm-bp256")
	for _, tc := range tests {
		t.Run(fmt.Sprintf("step %d status %04X", tc.step, uint16(tc.status)), func(t *testing.T) {
			p := newPassport(t, ds, &vchip.Config{PACEFailStep: tc.step, PACEFailStatus: tc.status})
			for range 2 { // every run fails the same way
				c := &counter{t: p}
				res, err := openPACE(t, c, password(t, "MRZ"))
				require.ErrorIs(t, err, tc.wantErr, "PACE")
				require.Nil(t, res, "PACE")
				assert.Equal(t, tc.step, c.general, "GENERAL AUTHENTICATE commands")
			}
			wantSW(t, p, gaNonce(), icao.StatusConditionsNotMet) // the run is over
			wantSW(t, p, selectApp(), icao.StatusOK)
			s := openBAC(t, p) // ICAO's fallback (9303-11 §4.2)
			wantSW(t, s, readSFI(0x1E, 0, 8), icao.StatusOK)
		})
	}
}

// TestPACEAndBAC: BAC works on a chip that offers both; a PACE-only chip
// refuses BAC and runs PACE; PACE after BAC ends the BAC session.
func TestPACEAndBAC(t *testing.T) {
	both := loadSpecimen(t, "specimen-pace-gm-bp256")
	p := newPassport(t, both, nil)
	wantSW(t, p, selectApp(), icao.StatusOK)
	s := openBAC(t, p)
	readLDS(t, s, both, icao.EFCOM, icao.EFDG14)
	wantSW(t, s, mseSetAT(0), icao.StatusConditionsNotMet) // PACE starts in plain
	res, err := openPACE(t, p, password(t, "MRZ"))         // a plain command ends BAC's session
	require.NoError(t, err)
	readLDS(t, res.Session, both, icao.EFCOM, icao.EFDG1)
	_, err = icao.Exchange(context.Background(), s, selectApp())
	assert.Error(t, err, "the BAC session survived PACE")

	only := loadSpecimen(t, "specimen-pace-only-cam")
	q := newPassport(t, only, &only.Config) // chip.json: no_bac
	wantSW(t, q, icao.Command{INS: icao.InsGetChallenge, Ne: 8}, icao.StatusRefDataNotFound)
	res, err = openPACE(t, q, password(t, "CAN"))
	require.NoError(t, err)
	readLDS(t, res.Session, only, icao.EFCOM, icao.EFDG1)
}

// TestPACEReset: a power cycle ends a PACE run and a PACE session.
func TestPACEReset(t *testing.T) {
	ds := loadSpecimen(t, "specimen-pace-gm-bp256")
	p := newPassport(t, ds, nil)
	wantSW(t, p, mseSetAT(0), icao.StatusOK)
	wantSW(t, p, gaNonce(), icao.StatusOK)
	p.Reset()
	wantSW(t, p, gaNonce(), icao.StatusConditionsNotMet)

	res, err := openPACE(t, p, password(t, "MRZ"))
	require.NoError(t, err)
	p.Reset()
	_, err = icao.Exchange(context.Background(), res.Session, selectApp())
	assert.ErrorIs(t, err, icao.ErrSM, "session after reset")
}

// TestPACENoExtendedLength: DH-2048 public keys need an extended-length
// GENERAL AUTHENTICATE (9303-11 §9.3.1), which such a chip refuses.
func TestPACENoExtendedLength(t *testing.T) {
	ds := withPACE(t, "DH-GM-AES-128/2", "")
	p := newPassport(t, ds, &vchip.Config{NoExtendedLength: true})
	_, err := openPACE(t, p, password(t, "MRZ"))
	require.ErrorIs(t, err, icao.StatusWord(icao.StatusWrongLength), "PACE DH-2048 without extended length")
	ds = withPACE(t, "DH-GM-AES-128/0", "")
	p = newPassport(t, ds, &vchip.Config{NoExtendedLength: true})
	_, err = openPACE(t, p, password(t, "MRZ"))
	require.NoError(t, err, "PACE DH-1024 without extended length")
}

// shortOuter sends every protected command in the short form with Le 00,
// whatever Ne sm.Session chose: the outer Le is not covered by the MAC
// (9303-11 §9.8.4), so this is what a reader limited to short APDUs sends.
type shortOuter struct{ t icao.Transport }

func (s shortOuter) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if cmd, err := icao.ParseCommand(capdu); err == nil && cmd.CLA&0x0C == 0x0C && cmd.Ne > icao.MaxShortNe && len(cmd.Data) <= 255 {
		cmd.Ne = icao.MaxShortNe
		if capdu, err = cmd.Marshal(); err != nil {
			return nil, err
		}
	}
	return s.t.Transmit(ctx, capdu)
}

// TestPACEStrictOuterLe: StrictOuterLe counts the padding of the session's
// cipher: with AES, plain Ne 223 fits a 256-byte protected response and 224
// does not; with 3DES, 231 and 232 (the arithmetic behind JMRTD's 0xDF).
func TestPACEStrictOuterLe(t *testing.T) {
	tests := []struct {
		offers string
		ne     int
		want   icao.StatusWord
	}{
		{"ECDH-GM-AES-128/P-256", 223, icao.StatusOK},
		{"ECDH-GM-AES-128/P-256", 224, icao.StatusWrongLength},
		{"ECDH-GM-AES-256/P-256", 224, icao.StatusWrongLength},
		{"ECDH-GM-3DES/P-256", 231, icao.StatusOK},
		{"ECDH-GM-3DES/P-256", 232, icao.StatusWrongLength},
	}
	for _, tc := range tests {
		for _, strict := range []bool{false, true} {
			want := tc.want
			if !strict {
				want = icao.StatusOK
			}
			name := fmt.Sprintf("%s Le %d strict %v", tc.offers, tc.ne, strict)
			t.Run(name, func(t *testing.T) {
				ds := withPACE(t, tc.offers, "")
				p := newPassport(t, ds, &vchip.Config{StrictOuterLe: strict})
				res, err := openPACE(t, shortOuter{p}, password(t, "MRZ"))
				require.NoError(t, err)
				s := res.Session
				wantSW(t, s, selectApp(), icao.StatusOK)
				wantSW(t, s, readSFI(0x02, 0, tc.ne), want)
				wantSW(t, s, readSFI(0x02, 0, 8), icao.StatusOK) // the session survives
			})
		}
	}
}
