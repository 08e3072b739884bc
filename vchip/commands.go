package vchip

import (
	"bytes"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// SELECT P2 values (ISO/IEC 7816-4 §11.1.1, Table 40).
const (
	p2FCI    = 0x00 // return the FCI template
	p2FCP    = 0x04 // return the FCP template
	p2NoData = 0x0C // return no data
)

// selectFile answers SELECT (ISO/IEC 7816-4 §11.1.1; 9303-10 §3.6.2):
// P1 00 selects the MF (empty data or 3F00) or a file of the current DF by
// FID, 02 an EF of the current DF, 04 the eMRTD application by DF name.
func (p *Passport) selectFile(cmd icao.Command, prot protection) icao.Response {
	if p.cfg.RejectSelectLe && cmd.Ne > 0 {
		return fail(icao.StatusWrongLength)
	}
	if cmd.P2 != p2FCI && cmd.P2 != p2FCP && cmd.P2 != p2NoData {
		return fail(icao.StatusIncorrectP1P2)
	}
	switch cmd.P1 {
	case 0x00:
		if len(cmd.Data) == 0 || bytes.Equal(cmd.Data, []byte{0x3F, 0x00}) {
			return p.selectMF(cmd)
		}
		fallthrough
	case 0x02:
		if len(cmd.Data) != 2 {
			return fail(icao.StatusLcInconsistent)
		}
		return p.selectEF(cmd, uint16(cmd.Data[0])<<8|uint16(cmd.Data[1]), prot)
	case 0x04:
		aid := icao.AIDLDS1()
		if !bytes.Equal(cmd.Data, aid) {
			return fail(icao.StatusFileNotFound)
		}
		p.df, p.ef = dfLDS1, nil
		return selectAnswer(cmd, dfTemplate(cmd.P2, aid))
	}
	return fail(icao.StatusIncorrectP1P2)
}

func (p *Passport) selectMF(cmd icao.Command) icao.Response {
	if p.cfg.SelectMFStatus != 0 {
		return fail(p.cfg.SelectMFStatus)
	}
	p.df, p.ef = dfMF, nil
	return selectAnswer(cmd, tlv.Encode(0x62, append(tlv.Encode(0x82, []byte{0x38}), tlv.Encode(0x83, []byte{0x3F, 0x00})...)))
}

func (p *Passport) selectEF(cmd icao.Command, fid uint16, prot protection) icao.Response {
	f := p.fs.byFID(p.df, fid)
	switch {
	case f == nil:
		return fail(icao.StatusFileNotFound)
	case f.name == NameCardAccess && p.cfg.CardAccessDeactivated:
		return fail(statusDeactivated)
	case !p.canSelect(f, prot):
		return fail(icao.StatusSecurityNotSatisfied)
	}
	p.ef = f
	return selectAnswer(cmd, efTemplate(f))
}

// canSelect reports whether f may become the current EF: EF.CardAccess
// always, LDS1 files only under secure messaging (a US passport answers
// 6982 before BAC, gmrtd#226). DG3 and DG4 can be selected but not read.
func (p *Passport) canSelect(f *file, prot protection) bool {
	return f.access == accessAlways || prot == protected
}

// canRead reports whether f may be read.
func (p *Passport) canRead(f *file, prot protection) bool {
	return f.access == accessAlways || f.access == accessBAC && prot == protected
}

// selectAnswer returns the template when P2 asks for one, cut to Ne.
func selectAnswer(cmd icao.Command, template []byte) icao.Response {
	if cmd.P2 == p2NoData {
		return icao.Response{SW: icao.StatusOK}
	}
	return icao.Response{Data: template[:min(cmd.Ne, len(template))], SW: icao.StatusOK}
}

// dfTemplate is the FCI ('6F') or FCP ('62') of a DF with name aid.
func dfTemplate(p2 byte, aid []byte) []byte {
	if p2 == p2FCP {
		return tlv.Encode(0x62, append(tlv.Encode(0x82, []byte{0x38}), tlv.Encode(0x84, aid)...))
	}
	return tlv.Encode(0x6F, tlv.Encode(0x84, aid))
}

// efTemplate is the FCP of an EF (ISO/IEC 7816-4 §7.4.3): size, a
// transparent working EF descriptor, FID and SFI.
func efTemplate(f *file) []byte {
	n := len(f.data)
	size := []byte{byte(n >> 8), byte(n)}
	if n > 0xFFFF {
		size = []byte{byte(n >> 16), byte(n >> 8), byte(n)}
	}
	var b []byte
	b = tlv.Append(b, 0x80, size)
	b = tlv.Append(b, 0x82, []byte{0x01})
	b = tlv.Append(b, 0x83, []byte{byte(f.fid >> 8), byte(f.fid)})
	b = tlv.Append(b, 0x88, []byte{f.sfi << 3})
	return tlv.Encode(0x62, b)
}

// readBinary answers READ BINARY with even INS B0 (ISO/IEC 7816-4
// §11.2.3): P1 bit 8 set means an SFI in P1 bits 5–1 and an offset of 0–255
// in P2, which also selects the file; clear means a 15-bit offset into the
// current EF. An offset of 32768 or more cannot be expressed: P1 80–9F
// would name an SFI, and A0–FF are invalid (6B00).
func (p *Passport) readBinary(cmd icao.Command, prot protection) icao.Response {
	if cmd.P1&0x80 == 0 {
		if p.ef == nil {
			return fail(statusNoCurrentEF)
		}
		return p.read(p.ef, int(cmd.P1)<<8|int(cmd.P2), cmd.Ne, prot, false)
	}
	sfi := cmd.P1 & 0x1F
	if cmd.P1&0x60 != 0 || sfi == 0 || sfi == 0x1F {
		return fail(icao.StatusWrongP1P2)
	}
	f, sw := p.fileBySFI(sfi, prot)
	if sw != 0 {
		return fail(sw)
	}
	return p.read(f, int(cmd.P2), cmd.Ne, prot, false)
}

// readBinaryOdd answers READ BINARY with odd INS B1 (ISO/IEC 7816-4
// §11.2.3; 9303-10 §3.5.2, mandatory for files of 32768 bytes or more):
// P1-P2 0000 is the current EF, 0001–001E an SFI, anything else a FID in
// the current DF; the offset is DO'54' in the data field and the response
// data is DO'53'.
func (p *Passport) readBinaryOdd(cmd icao.Command, prot protection) icao.Response {
	off, ok := parseOffset(cmd.Data)
	if !ok {
		return fail(icao.StatusWrongData)
	}
	id := uint16(cmd.P1)<<8 | uint16(cmd.P2)
	switch {
	case id == 0:
		if p.ef == nil {
			return fail(statusNoCurrentEF)
		}
		return p.read(p.ef, off, cmd.Ne, prot, true)
	case id < 0x1F:
		f, sw := p.fileBySFI(byte(id), prot)
		if sw != 0 {
			return fail(sw)
		}
		return p.read(f, off, cmd.Ne, prot, true)
	case id == 0x1F: // SFI 31 is reserved
		return fail(icao.StatusWrongP1P2)
	}
	f := p.fs.byFID(p.df, id)
	if f == nil {
		return fail(icao.StatusFileNotFound)
	}
	if !p.canSelect(f, prot) {
		return fail(icao.StatusSecurityNotSatisfied)
	}
	p.ef = f
	return p.read(f, off, cmd.Ne, prot, true)
}

// parseOffset decodes DO'54', an offset of one to three bytes.
func parseOffset(data []byte) (int, bool) {
	o, found, err := tlv.Find(data, 0x54)
	if err != nil || !found || len(o.Value) == 0 || len(o.Value) > 3 {
		return 0, false
	}
	off := 0
	for _, b := range o.Value {
		off = off<<8 | int(b)
	}
	return off, true
}

// fileBySFI resolves a short EF identifier in the current DF, which selects
// the file when it may be read.
func (p *Passport) fileBySFI(sfi byte, prot protection) (*file, icao.StatusWord) {
	if p.cfg.NoShortEF {
		return nil, or(p.cfg.NoShortEFStatus, icao.StatusIncorrectP1P2)
	}
	f := p.fs.bySFI(p.df, sfi)
	switch {
	case f == nil, f.name == NameCardAccess && p.cfg.CardAccessDeactivated:
		return nil, icao.StatusFileNotFound
	case !p.canSelect(f, prot):
		return nil, icao.StatusSecurityNotSatisfied
	}
	p.ef = f
	return f, 0
}

// read serves Ne bytes of f from off: exactly min(Ne, remaining) bytes, or
// for the odd INS a DO'53' of at most Ne bytes. It applies the access
// conditions and the Le quirks.
func (p *Passport) read(f *file, off, ne int, prot protection, odd bool) icao.Response {
	switch {
	case !p.canRead(f, prot):
		return fail(icao.StatusSecurityNotSatisfied)
	case ne == 0:
		return fail(icao.StatusWrongLength)
	case off >= len(f.data):
		return fail(icao.StatusWrongP1P2)
	}
	limit, over := ne, ne > p.cfg.maxLe()
	if over {
		limit = p.cfg.maxLe()
	}
	room := limit
	if odd {
		room = tlv.FitValue(limit)
	}
	n := min(room, len(f.data)-off)
	if n <= 0 {
		return fail(icao.StatusWrongLength)
	}
	sw := icao.StatusOK
	if n < room {
		sw = or(p.cfg.EOFStatus, icao.StatusOK)
	}
	if over {
		switch p.cfg.OverLe {
		case LeExact:
			return fail(exactLe(n, odd))
		case LeWrongOffset:
			return fail(icao.StatusWrongP1P2)
		case LeTruncate:
			sw = icao.StatusEndOfFile
		default:
			return fail(icao.StatusWrongLength)
		}
	}
	data := f.data[off : off+n]
	if odd {
		data = tlv.Encode(0x53, data)
	}
	return icao.Response{Data: data, SW: sw}
}

// exactLe is the 6Cxx answer telling the Le that would serve n bytes, or
// 6700 when that Le does not fit SW2.
func exactLe(n int, odd bool) icao.StatusWord {
	if odd {
		n += 1 + tlv.LengthSize(n)
	}
	if n > icao.MaxShortNe {
		return icao.StatusWrongLength
	}
	return 0x6C00 | icao.StatusWord(n&0xFF)
}
