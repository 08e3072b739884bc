package vchip

import (
	"io"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Config switches on the behaviours of real chips that readers trip over
// (each switch names its public report). The zero value is a well-behaved
// modern chip: BAC, and PACE when the dataset's EF.CardAccess offers it, extended
// length (though no EF.ATR/INFO states it), any Le, short EF identifiers,
// data and 9000 at the end of a file, 6300 for a wrong key, no delay,
// never removed. A nil *Config is the zero Config.
type Config struct {
	// NoExtendedLength makes the chip answer every extended-length APDU
	// with 6700, without secure messaging and before SM processing, so an
	// SM session survives and its SSC does not advance. In ICAO's 2017
	// interoperability test only 53% of the documents took extended length
	// (gmrtd#5); gmrtd PR #410 and #457 (CN) show chips rejecting it, and
	// Short-APDU-level readers such as the ACR122U cannot carry it at all
	// (LudovicRousseau/CCID readers/ACR122U.txt).
	NoExtendedLength bool
	// NoExtendedReadBinary makes the chip answer an extended-length READ
	// BINARY with an unprotected 6700, before secure messaging, while it
	// takes extended GENERAL AUTHENTICATE and MSE:Set KAT as 9303-11
	// §9.3.1.2 requires: the chip of gmrtd#457 (CN) answers an extended
	// read so. A reader that probes extended length on a chip stating no
	// buffer sizes meets it.
	NoExtendedReadBinary bool
	// ATRInfo, when both sizes are set, makes the chip serve EF.ATR/INFO
	// (MF, FID 2F01, SFI 01, readable always; 9303-10 §3.11.1) with card
	// capabilities announcing extended Lc/Le and the extended length
	// information DO'7F66' stating these sizes, and hold to them: a
	// command APDU longer than ATRInfo.Command, or a response APDU (data
	// and SW1 SW2, secure messaging included) longer than
	// ATRInfo.Response, is answered 6700. Zero serves no EF.ATR/INFO.
	ATRInfo icao.BufferSizes

	// MaxLe is the largest Ne a READ BINARY is served with; for the odd
	// INS B1 it includes the DO'53' header. Zero means 65536, or 256 with
	// NoExtendedLength. Under secure messaging Le travels inside DO'97', so
	// the check comes after SM processing and its answer is protected
	// (the UA passport takes Le ≤ 192: gmrtd/gmrtd#410).
	// Whatever MaxLe says, a protected response must fit the 65536 data
	// bytes of a response APDU; a command asking for more is refused with
	// a protected 6700.
	MaxLe int
	// OverLe selects the answer to a READ BINARY whose Ne exceeds MaxLe.
	OverLe LeAnswer
	// StrictOuterLe makes the chip refuse, with a protected 6700, a
	// command whose protected response would be longer than the Ne of the
	// outer (protected) APDU: Le 00 in a short protected APDU allows 256
	// bytes, which DO'87' + DO'99' + DO'8E' exceed from a plain Ne of 232
	// in a 3DES session (BAC, PACE with 3DES) or 224 in an AES session
	// (PACE with AES): the padding follows the block size of the session's
	// cipher. Real chips differ; this is the strict reading of ISO/IEC
	// 7816-4 §5.1 that makes Le 256 reads fail as they do through
	// short-APDU readers (the arithmetic behind JMRTD's Le 0xDF).
	StrictOuterLe bool

	// NoShortEF makes READ BINARY with a short EF identifier in P1 (B0)
	// or P1-P2 (B1) fail with NoShortEFStatus, so the reader must SELECT
	// the file by FID first. ISO/IEC 7816-4 leaves SFI support optional.
	NoShortEF bool
	// NoShortEFStatus is the answer when NoShortEF refuses an SFI: zero
	// means 6A86 (incorrect P1-P2); 6B00 is the other answer seen.
	NoShortEFStatus icao.StatusWord

	// EOFStatus is the status word of a READ BINARY that asks for more
	// bytes than remain in the file: zero means 9000 with the remaining
	// bytes; icao.StatusEndOfFile (6282) returns them with the warning,
	// as the ES ID card does (AndyQ/NFCPassportReader#91).
	EOFStatus icao.StatusWord

	// SelectMFStatus, when non-zero, is the answer to every form of SELECT
	// MF (P1 00 with an empty data field or 3F00). Chips answer 6982 (NZ),
	// 6A81 (CN), 6A86 (AU), 6A87 (UA) (gmrtd#460), 6985 (AndyQ#164) or
	// 6D00 (VN, AndyQ#219). Zero selects the MF with 9000.
	SelectMFStatus icao.StatusWord
	// RejectSelectLe makes a SELECT or an MSE (MSE:Set AT of PACE) that
	// carries Le fail with 6700. 9303 gives neither command a Le, and all
	// German documents tested in AndyQ/NFCPassportReader PR #153 (2008–2022)
	// refused PACE when MSE:Set AT carried one, so that the reader fell back
	// to BAC; the same PR drops Le from SELECT. One switch covers both, as
	// the documents reported do both. By default Le present or absent are
	// both fine.
	RejectSelectLe bool
	// CardAccessDeactivated makes SELECT EF.CardAccess answer 6283
	// (selected file deactivated) without selecting it, as a Malaysian
	// passport does before BAC (gmrtd iso7816/nfc_session.go, SelectEF);
	// reading it by SFI answers 6A82.
	CardAccessDeactivated bool

	// NoBAC makes the chip a PACE-only document: GET CHALLENGE and
	// EXTERNAL AUTHENTICATE answer NoBACStatus. Since 2018 ICAO no longer
	// requires BAC on PACE documents (ZeroPass/dmrtd#4, AndyQ#50).
	NoBAC bool
	// NoBACStatus is the answer of a PACE-only chip to BAC: zero means
	// 6A88 (referenced data not found, pypassport README); 6985 is seen too
	// (bettse/passy#55, NL 2023).
	NoBACStatus icao.StatusWord
	// PACEFailStep, when 1 to 4, makes the chip refuse GENERAL
	// AUTHENTICATE step N of every PACE run (1 encrypted nonce, 2 mapping,
	// 3 key agreement, 4 mutual authentication; 9303-11 §4.4.4.3) with
	// PACEFailStatus, without secure messaging and ending the run, as
	// chips do that reject PACE mid-way although the password is right:
	// ZeroPass/dmrtd#33 (GR passport, 6300 at step 4), dmrtd#36 (SK
	// passport 6A80, SK ID card 6300 at step 4), AndyQ/NFCPassportReader
	// #184 (HU passport, step 4). A reader then falls back to BAC on a
	// chip that offers both (9303-11 §4.2). Zero means never.
	PACEFailStep int
	// PACEFailStatus is the answer of [Config.PACEFailStep]: zero means
	// 6A80 (incorrect data, dmrtd#36); 6300 and 6985 are seen too.
	PACEFailStatus icao.StatusWord

	// AuthFailStatus is the answer to EXTERNAL AUTHENTICATE with a wrong
	// key: zero means 6300 (9303-11 §4.3, AndyQ README); 6985 is the other
	// answer real chips give (selfxyz/self#770, tananaev#7).
	AuthFailStatus icao.StatusWord
	// PlainAfterSM is the answer to a plain (unprotected) command received
	// while secure messaging is on. Either way the chip aborts secure
	// messaging and resets the access rights (9303-11 §9.8.6.1 "SM
	// termination"). Zero means the command is then processed without
	// access rights (LDS reads answer 6982, GET CHALLENGE starts a new
	// BAC); non-zero, typically 6987, is answered instead.
	PlainAfterSM icao.StatusWord

	// Latency delays every APDU, as the chip and the RF link do: about
	// 9 ms per small APDU and 37 ms per 256-byte protected read on a
	// desktop reader (gmrtd#6), 17–19 ms on Android (bettse/passy#3). The
	// delay honours ctx. Zero means none.
	Latency time.Duration
	// RemoveAfter, when positive, takes the card away after it has served
	// that many APDUs, as a traveller lifting the passport mid-read does
	// (AndyQ/NFCPassportReader#226): later calls to [Passport.Transmit] fail with
	// [ErrRemoved], and [Serve] removes the card from the vpcd reader.
	RemoveAfter int

	// Cloned makes the chip a clone that copied the files but not the
	// private keys, which never leave a genuine chip: its Chip
	// Authentication, Active Authentication and PACE-CAM keys are fresh
	// random keys of the same kind, which do not match DG14, DG15 and
	// EF.CardSecurity (9303-11 §6.1, §6.2 are there to catch it).
	Cloned bool

	// ATR is the answer to reset presented through vpcd; nil means the
	// vpcd package's default, a contactless Type B ePassport ATR.
	ATR []byte
	// Rand is the source of RND.IC and K.IC for BAC, and of the nonce and
	// the ephemeral keys of PACE; nil means crypto/rand.
	Rand io.Reader
}

// LeAnswer is how a chip refuses a READ BINARY whose Ne exceeds
// [Config.MaxLe] (ISO 7816-4 §5.6: 6700 wrong length, 6Cxx exact length).
type LeAnswer int

// Answers to an Ne above MaxLe.
const (
	// LeWrongLength answers 6700 (wrong length), the common refusal.
	LeWrongLength LeAnswer = iota
	// LeExact answers 6Cxx with xx the length the chip would serve
	// (ISO/IEC 7816-4 §5.6); it falls back to 6700 when that length does
	// not fit SW2 (MaxLe above 256).
	LeExact
	// LeWrongOffset answers 6B00, as the RU passport does for Le 256
	// (AndyQ/NFCPassportReader#89).
	LeWrongOffset
	// LeTruncate serves MaxLe bytes and answers 6282, as the ES ID card
	// does for Le 256 (AndyQ/NFCPassportReader#91).
	LeTruncate
)

// String names the answer as chip.json spells it.
func (a LeAnswer) String() string {
	switch a {
	case LeWrongLength:
		return "6700"
	case LeExact:
		return "6cxx"
	case LeWrongOffset:
		return "6b00"
	case LeTruncate:
		return "truncate"
	}
	return "LeAnswer(?)"
}

// ParseLeAnswer parses the chip.json spelling of a [LeAnswer]: "6700",
// "6cxx", "6b00" or "truncate" (case-insensitive).
func ParseLeAnswer(s string) (LeAnswer, bool) {
	for a := LeWrongLength; a <= LeTruncate; a++ {
		if strings.EqualFold(s, a.String()) {
			return a, true
		}
	}
	return 0, false
}

// maxLe is the largest Ne a READ BINARY is served with.
func (c *Config) maxLe() int {
	switch {
	case c.MaxLe > 0:
		return c.MaxLe
	case c.NoExtendedLength:
		return icao.MaxShortNe
	}
	return icao.MaxExtendedNe
}

// or returns sw, or def when sw is zero.
func or(sw, def icao.StatusWord) icao.StatusWord {
	if sw == 0 {
		return def
	}
	return sw
}

// atrInfo is the content of EF.ATR/INFO, nil when the chip has none: the
// card capabilities (first table: selection by full DF name, by FID and
// by short EF identifier; second: data unit of one byte; third: extended
// Lc and Le, extended length information in EF.ATR/INFO; ISO/IEC 7816-4
// §8.1.1.2.7) and the stated sizes.
func (c *Config) atrInfo() []byte {
	if c.ATRInfo == (icao.BufferSizes{}) {
		return nil
	}
	caps := icao.Capabilities{Tables: []byte{0x86, 0x01, 0x60}, Buffers: c.ATRInfo}
	return caps.MarshalATRInfo()
}
