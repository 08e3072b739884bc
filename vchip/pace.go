package vchip

import (
	"fmt"
	"slices"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
)

// setupPACE prepares the chip side of PACE from the dataset: the offers
// are the PACEInfos of EF.CardAccess that can be run, the passwords the
// MRZ (p.mrzInfo) and the CAN. A dataset whose EF.CardAccess does not
// parse, or offers nothing runnable, still serves the file; the chip then
// refuses every MSE:Set AT, as a chip does that was recorded with a
// protocol we cannot run or whose private key we do not have (CAM).
func (p *Passport) setupPACE(ds *Dataset) error {
	ca, ok := ds.Files[NameCardAccess]
	if !ok {
		return nil
	}
	p.paceOffered = true
	var pws []pace.Password
	if p.mrzInfo != nil {
		pws = append(pws, pace.MRZ(p.mrzInfo))
	}
	if ds.CAN != "" {
		can, err := pace.CAN(ds.CAN)
		if err != nil {
			return fmt.Errorf("CAN: %w", err)
		}
		pws = append(pws, can)
	}
	var key *pace.ChipKey
	if ds.ChipKey != nil {
		var err error
		if key, err = ds.ChipKey.paceKey(); err != nil {
			return err
		}
		if p.cfg.Cloned { // a clone has its own key, not the one DG14 holds
			if key, err = pace.GenerateChipKey(ds.ChipKey.ParameterID, p.rand); err != nil {
				return fmt.Errorf("%w: %w", ErrChipKey, err)
			}
		}
	}
	infos, err := pace.ParseCardAccess(ca)
	if err != nil || len(pws) == 0 {
		return nil
	}
	offers := runnable(infos.PACE, key)
	if len(offers) == 0 {
		return nil
	}
	card, err := pace.NewCard(pace.CardConfig{Passwords: pws, Infos: offers, ChipKey: key, Rand: p.rand})
	if err != nil {
		return fmt.Errorf("PACE: %w", err)
	}
	p.pace, p.offers = card, offers
	return nil
}

// runnable returns the PACEInfos the chip can run: supported by package
// pace and, for the Chip Authentication Mapping, on the curve of the chip
// key.
func runnable(infos []pace.Info, key *pace.ChipKey) []pace.Info {
	var out []pace.Info
	for _, i := range infos {
		switch {
		case !i.Supported():
		case i.Mapping() == pace.ChipAuthenticationMapping && (key == nil || key.ParameterID() != i.ParameterID):
		default:
			out = append(out, i)
		}
	}
	return out
}

// PACEInfos returns the PACE protocols the chip runs: the PACEInfos of its
// EF.CardAccess that package pace supports, less CAM protocols for which
// the dataset holds no chip key. It is empty for a BAC-only chip.
func (p *Passport) PACEInfos() []pace.Info {
	return slices.Clone(p.offers)
}

// mse answers MSE:Set AT, which starts a PACE run (9303-11 §4.4.4.1),
// and under secure messaging the MSE commands of Chip Authentication
// ([Passport.chipAuth]). Other plain MSE variants get the answer pace.Card
// gives them.
func (p *Passport) mse(cmd icao.Command, prot protection) icao.Response {
	switch {
	case p.cfg.RejectSelectLe && cmd.Ne > 0:
		return fail(icao.StatusWrongLength)
	case prot == protected:
		return p.chipAuth(cmd) // PACE starts with plain commands, CA under SM
	case !p.paceOffered:
		return fail(icao.StatusInsNotSupported) // a BAC-only chip
	case p.pace == nil:
		return fail(icao.StatusWrongData) // no protocol it can run
	}
	p.bac, p.paceStep = nil, 0 // a new authentication abandons an unfinished BAC
	resp, _, err := p.pace.Handle(cmd)
	if err == nil && resp.SW == icao.StatusOK {
		p.paceStep = 1
	}
	return resp
}

// generalAuthenticate answers the GENERAL AUTHENTICATE steps of PACE
// (9303-11 §4.4.4.3), and under secure messaging that of Chip
// Authentication ([Passport.chipAuth]). When the fourth verifies the terminal's token,
// secure messaging starts with the new session keys and the access rights
// of BAC. A failed step ends the run; the terminal starts again with
// MSE:Set AT.
func (p *Passport) generalAuthenticate(cmd icao.Command, prot protection) icao.Response {
	switch {
	case prot == protected:
		return p.chipAuth(cmd)
	case !p.paceOffered:
		return fail(icao.StatusInsNotSupported)
	case p.pace == nil || p.paceStep == 0:
		return fail(icao.StatusConditionsNotMet) // no MSE:Set AT first
	case p.paceStep == p.cfg.PACEFailStep:
		p.paceStep = 0
		return fail(or(p.cfg.PACEFailStatus, icao.StatusWrongData))
	}
	resp, keys, err := p.pace.Handle(cmd)
	switch {
	case err != nil || resp.SW != icao.StatusOK:
		p.paceStep = 0
		return resp // 6F00 when the random source failed
	case keys == nil:
		p.paceStep++
		return resp
	}
	p.paceStep = 0
	sess, err := sm.NewCard(*keys)
	clear(keys.Enc)
	clear(keys.MAC)
	if err != nil {
		return fail(icao.StatusUnknown)
	}
	p.sess, p.suite = sess, keys.Suite
	return resp
}
