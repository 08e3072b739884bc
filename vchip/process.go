package vchip

import (
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Status words the chip answers besides the icao.Status* ones (ISO/IEC
// 7816-4 §5.6, Table 6).
const (
	statusDeactivated       icao.StatusWord = 0x6283 // selected file deactivated
	statusNoLogicalChannel  icao.StatusWord = 0x6881 // logical channel not supported
	statusSMNotSupported    icao.StatusWord = 0x6882 // secure messaging not supported
	statusChainNotSupported icao.StatusWord = 0x6884 // command chaining not supported
	statusNoCurrentEF       icao.StatusWord = 0x6986 // command not allowed (no current EF)
)

// claPCSC is the class of PC/SC part 3 pseudo-APDUs, which a real reader
// answers itself and never passes to the chip.
const claPCSC = 0xFF

// statusOnly encodes a response without data.
func statusOnly(sw icao.StatusWord) []byte {
	return []byte{byte(sw >> 8), byte(sw)}
}

// fail builds a response without data.
func fail(sw icao.StatusWord) icao.Response { return icao.Response{SW: sw} }

// process answers one command APDU. The order follows a chip's layers:
// transport-level length checks, then the class byte, then secure
// messaging, then the command itself.
func (p *Passport) process(raw []byte) []byte {
	switch {
	case p.cfg.NoExtendedLength && icao.IsExtended(raw):
		return statusOnly(icao.StatusWrongLength) // before SM: the session survives
	case p.cfg.NoExtendedReadBinary && icao.IsExtended(raw) && (raw[1] == icao.InsReadBinary || raw[1] == icao.InsReadBinaryOdd):
		return statusOnly(icao.StatusWrongLength)
	case p.cfg.ATRInfo.Command > 0 && len(raw) > p.cfg.ATRInfo.Command:
		return statusOnly(icao.StatusWrongLength) // the stated command buffer
	}
	cmd, err := icao.ParseCommand(raw)
	if err != nil {
		p.dropSession() // neither a valid protected nor a valid plain APDU
		return statusOnly(icao.StatusWrongLength)
	}
	if cmd.CLA == claPCSC {
		return statusOnly(icao.StatusClaNotSupported)
	}
	if sw := checkClass(cmd.CLA, cmd.INS); sw != 0 {
		p.dropSession()
		return statusOnly(sw)
	}
	if cmd.CLA&0x0C == 0x0C {
		return p.secured(raw, cmd)
	}
	if p.sess != nil {
		// 9303-11 §9.8.6.1: a plain APDU aborts secure messaging.
		p.dropSession()
		if p.cfg.PlainAfterSM != 0 {
			return statusOnly(p.cfg.PlainAfterSM)
		}
	}
	resp := p.dispatch(cmd, unprotected)
	if p.overBuffer(len(resp.Data)) {
		resp = fail(icao.StatusWrongLength)
	}
	return resp.Marshal()
}

// overBuffer reports whether a response with n data bytes exceeds the
// stated response buffer.
func (p *Passport) overBuffer(n int) bool {
	return p.cfg.ATRInfo.Response > 0 && n+2 > p.cfg.ATRInfo.Response
}

// checkClass returns the status word refusing a class byte this chip does
// not serve, or 0: only the first interindustry classes on the basic
// logical channel, plain or with ISO secure messaging (CLA 00 or 0C), and
// command chaining (CLA 10) only for the plain GENERAL AUTHENTICATE
// commands of PACE (9303-11 §4.4.4.3).
func checkClass(cla, ins byte) icao.StatusWord {
	switch {
	case cla&0x80 != 0 || cla&0xE0 == 0x20: // proprietary, RFU
		return icao.StatusClaNotSupported
	case cla&0x40 != 0: // further interindustry: logical channels 4–19
		return statusNoLogicalChannel
	case cla&0x10 != 0 && (ins != icao.InsGeneralAuthenticate || cla&0x0C != 0):
		return statusChainNotSupported
	case cla&0x03 != 0:
		return statusNoLogicalChannel
	case cla&0x0C == 0x04 || cla&0x0C == 0x08:
		return statusSMNotSupported
	}
	return 0
}

// secured answers a protected command: unwrap, process with the access
// rights of the session, wrap. An SM error drops the session and is
// answered without secure messaging (9303-11 §9.8.6.1).
func (p *Passport) secured(raw []byte, outer icao.Command) []byte {
	if p.sess == nil {
		return statusOnly(icao.StatusSMObjectsIncorrect)
	}
	plain, err := p.sess.Unwrap(raw)
	if err != nil {
		p.dropSession()
		return statusOnly(sm.CardStatus(err))
	}
	cmd, err := icao.ParseCommand(plain)
	if err != nil {
		p.dropSession()
		return statusOnly(icao.StatusSMObjectsIncorrect)
	}
	resp := p.dispatch(cmd, protected)
	limit := icao.MaxExtendedNe // no response APDU carries more data
	if p.cfg.StrictOuterLe {
		limit = outer.Ne
	}
	if n := sm.ResponseLen(p.suite, len(resp.Data), cmd.INS&1 == 1); n > limit || p.overBuffer(n) {
		resp = fail(icao.StatusWrongLength)
	}
	out, err := p.sess.Wrap(resp.Marshal())
	if err != nil {
		p.dropSession()
		return statusOnly(icao.StatusUnknown)
	}
	p.switchKeys() // after Chip Authentication: new keys, SSC 0
	return out
}

// protection says how a command reached the chip: as a plain APDU or
// unwrapped from a protected one (9303-11 §9.8). Only secure messaging
// grants access to the LDS1 files, and BAC and PACE start only with plain
// commands.
type protection int

const (
	unprotected protection = iota // a plain command APDU
	protected                     // a command APDU under secure messaging
)

// dispatch runs one plain command. prot says whether it came under secure
// messaging.
func (p *Passport) dispatch(cmd icao.Command, prot protection) icao.Response {
	switch cmd.INS {
	case icao.InsSelect:
		return p.selectFile(cmd, prot)
	case icao.InsReadBinary:
		return p.readBinary(cmd, prot)
	case icao.InsReadBinaryOdd:
		return p.readBinaryOdd(cmd, prot)
	case icao.InsGetChallenge:
		return p.getChallenge(cmd, prot)
	case icao.InsExternalAuthenticate:
		return p.externalAuthenticate(cmd, prot)
	case icao.InsMSE:
		return p.mse(cmd, prot)
	case icao.InsGeneralAuthenticate:
		return p.generalAuthenticate(cmd, prot)
	case icao.InsInternalAuthenticate:
		return p.internalAuthenticate(cmd, prot)
	}
	return fail(icao.StatusInsNotSupported)
}
