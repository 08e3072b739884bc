package vchip

import (
	"errors"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Lengths of the BAC messages (9303-11 §4.3.4).
const (
	challengeLen = 8  // RND.IC
	authDataLen  = 40 // E.IFD ‖ M.IFD, and E.IC ‖ M.IC
)

// getChallenge answers GET CHALLENGE, the first step of BAC (9303-11
// §4.3.4.1): an 8-byte RND.IC. A PACE-only chip refuses it.
func (p *Passport) getChallenge(cmd icao.Command, prot protection) icao.Response {
	switch {
	case prot == protected:
		return fail(icao.StatusConditionsNotMet) // BAC restarts with plain commands
	case p.cfg.NoBAC || p.mrzInfo == nil:
		return fail(or(p.cfg.NoBACStatus, icao.StatusRefDataNotFound))
	case cmd.P1 != 0 || cmd.P2 != 0:
		return fail(icao.StatusWrongP1P2)
	case cmd.Ne != challengeLen:
		return fail(icao.StatusWrongLength)
	}
	p.bac = bac.NewCard(p.mrzInfo, p.rand)
	rnd := p.bac.GetChallenge()
	if rnd == nil {
		p.bac = nil
		return fail(icao.StatusUnknown) // the random source failed
	}
	return icao.Response{Data: rnd, SW: icao.StatusOK}
}

// externalAuthenticate answers EXTERNAL AUTHENTICATE (MUTUAL
// AUTHENTICATE), the second step of BAC (9303-11 §4.3.4.2): it checks the
// terminal's cryptogram, answers with the chip's and turns on secure
// messaging with the derived session keys. One attempt per challenge.
func (p *Passport) externalAuthenticate(cmd icao.Command, prot protection) icao.Response {
	switch {
	case prot == protected:
		return fail(icao.StatusConditionsNotMet)
	case p.cfg.NoBAC || p.mrzInfo == nil:
		return fail(or(p.cfg.NoBACStatus, icao.StatusRefDataNotFound))
	case cmd.P1 != 0 || cmd.P2 != 0:
		return fail(icao.StatusWrongP1P2)
	case len(cmd.Data) != authDataLen || cmd.Ne < authDataLen:
		return fail(icao.StatusWrongLength)
	case p.bac == nil:
		return fail(icao.StatusConditionsNotMet) // no GET CHALLENGE first
	}
	card := p.bac
	p.bac = nil
	resp, keys, err := card.ExternalAuthenticate(cmd.Data)
	switch {
	case errors.Is(err, bac.ErrAuthentication):
		return fail(or(p.cfg.AuthFailStatus, icao.StatusAuthFailed))
	case errors.Is(err, bac.ErrNoChallenge):
		return fail(icao.StatusConditionsNotMet)
	case err != nil:
		return fail(icao.StatusUnknown)
	}
	sess, err := sm.NewCard(keys)
	clear(keys.Enc)
	clear(keys.MAC)
	if err != nil {
		return fail(icao.StatusUnknown)
	}
	p.sess, p.suite, p.paceStep = sess, sm.TDES, 0 // BAC sessions are 3DES (9303-11 §9.8.6.1)
	return icao.Response{Data: resp, SW: icao.StatusOK}
}
