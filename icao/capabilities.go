package icao

import (
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// ErrCapabilities is returned when an ATR or EF.ATR/INFO is malformed.
var ErrCapabilities = errors.New("icao: malformed card capabilities")

// LengthSource says where the decision on extended-length READ BINARY
// came from (9303-11 §9.3.1.2: extended length only where the chip states
// its buffer sizes, in the ATR/ATS or in EF.ATR/INFO).
type LengthSource uint8

// Sources of the length decision.
const (
	// LengthNone: the chip states no buffer sizes; short APDUs only.
	LengthNone LengthSource = iota
	// LengthATRInfo: the sizes stated in EF.ATR/INFO (DO'7F66').
	LengthATRInfo
	// LengthATR: the sizes stated in the ATR/ATS historical bytes. ISO/IEC
	// 7816-4 carries only the card capabilities there, so a value parsed
	// from the ATR has this source but never states sizes by itself.
	LengthATR
	// LengthOverride: the operator asked for extended length
	// ([ExtendedAlways]).
	LengthOverride
	// LengthReader: the reader carries short APDUs only.
	LengthReader
	// LengthLearned: an earlier read on this reader and chip saw extended
	// READ BINARY refused.
	LengthLearned
)

var lengthSourceNames = [...]string{"none", "atr-info", "atr", "override", "reader", "learned"}

// String returns the source's name as `read --json` reports it.
func (s LengthSource) String() string {
	if int(s) < len(lengthSourceNames) {
		return lengthSourceNames[s]
	}
	return fmt.Sprintf("LengthSource(%d)", uint8(s))
}

// MarshalText encodes the source as its name.
func (s LengthSource) MarshalText() ([]byte, error) {
	if int(s) >= len(lengthSourceNames) {
		return nil, fmt.Errorf("icao: unknown length source %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes a name written by MarshalText.
func (s *LengthSource) UnmarshalText(b []byte) error {
	for i, n := range lengthSourceNames {
		if n == string(b) {
			*s = LengthSource(i)
			return nil
		}
	}
	return fmt.Errorf("icao: unknown length source %q", b)
}

// BufferSizes are the largest command and response APDUs, in bytes, that
// a chip states it takes (ISO/IEC 7816-4 §12.7.1, extended length
// information DO'7F66'): "the number of bytes in a command APDU shall not
// exceed" Command, and Ne shall be set so that a response APDU (data and
// SW1 SW2) does not exceed Response.
type BufferSizes struct {
	Command  int `json:"command"`
	Response int `json:"response"`
}

// Limits of a stated buffer size: the longest extended APDUs (ISO/IEC
// 7816-4 §5.1).
const (
	maxCommandAPDU  = 4 + 3 + maxExtendedNc + 2
	maxResponseAPDU = MaxExtendedNe + 2
)

// Capabilities are what a chip states about APDU lengths, in its ATR or
// in EF.ATR/INFO (9303-10 §3.11.1).
type Capabilities struct {
	// Source is where they were stated: LengthATR or LengthATRInfo, and
	// LengthNone for the zero value.
	Source LengthSource
	// Tables are the software function tables of the card capabilities
	// (ISO/IEC 7816-4 §8.1.1.2.7), one to three bytes, nil when absent.
	Tables []byte
	// Buffers are the stated buffer sizes, zero when not stated.
	Buffers BufferSizes
}

// Software function table bits (ISO/IEC 7816-4 §8.1.1.2.7).
const (
	tableShortEF      = 0x04 // first table, b3: short EF identifier supported
	tableExtendedLcLe = 0x40 // b7: extended Lc and Le fields
	tableLengthInfo   = 0x20 // b6: extended length information in EF.ATR/INFO
)

// ExtendedLength reports whether the card capabilities announce extended
// Lc and Le fields. It says nothing about buffer sizes, so on its own it
// does not allow extended-length READ BINARY (9303-11 §9.3.1.2).
func (c Capabilities) ExtendedLength() bool {
	return len(c.Tables) == 3 && c.Tables[2]&tableExtendedLcLe != 0
}

// ShortEF reports whether the card capabilities announce short EF
// identifiers. A chip that says so and answers 6A82 to a READ BINARY by
// short EF identifier has no such file.
func (c Capabilities) ShortEF() bool {
	return len(c.Tables) > 0 && c.Tables[0]&tableShortEF != 0
}

// LengthInfo reports whether the card capabilities say EF.ATR/INFO holds
// the extended length information.
func (c Capabilities) LengthInfo() bool {
	return len(c.Tables) == 3 && c.Tables[2]&tableLengthInfo != 0
}

// Stated reports whether the chip stated both buffer sizes.
func (c Capabilities) Stated() bool {
	return c.Buffers.Command > 0 && c.Buffers.Response > 0
}

// HistoricalBytes returns the historical bytes of an answer to reset
// (ISO/IEC 7816-3 §8.2): T0 gives their number and, with each TDi, which
// interface bytes precede them. The result aliases atr.
func HistoricalBytes(atr []byte) ([]byte, error) {
	if len(atr) < 2 || (atr[0] != 0x3B && atr[0] != 0x3F) {
		return nil, fmt.Errorf("%w: ATR of %d bytes without TS", ErrCapabilities, len(atr))
	}
	k := int(atr[1] & 0x0F)
	i, y := 2, atr[1]>>4
	for {
		td := y&0x08 != 0
		for bit := byte(1); bit <= 8; bit <<= 1 {
			if y&bit != 0 {
				i++
			}
		}
		if !td {
			break
		}
		if i > len(atr) {
			return nil, fmt.Errorf("%w: ATR ends inside its interface bytes", ErrCapabilities)
		}
		y = atr[i-1] >> 4 // TDi is the last interface byte of its group
	}
	if i+k > len(atr) {
		return nil, fmt.Errorf("%w: ATR shorter than its %d historical bytes", ErrCapabilities, k)
	}
	return atr[i : i+k], nil
}

// ParseATR returns the card capabilities in the historical bytes of atr
// (ISO/IEC 7816-4 §8.1.1: category indicator 00 or 80 followed by
// COMPACT-TLV data objects, card capabilities under tag 7). It fails only
// on an ATR whose structure is broken. Historical bytes in another format
// state nothing, and so do bytes that only look like COMPACT-TLV: the
// reader-built ATR of a Type B card carries ATQB bytes that may start with
// 00 (PC/SC part 3). Either way the result has Source LengthATR.
func ParseATR(atr []byte) (Capabilities, error) {
	hb, err := HistoricalBytes(atr)
	if err != nil {
		return Capabilities{}, err
	}
	c := Capabilities{Source: LengthATR}
	if len(hb) == 0 {
		return c, nil
	}
	var objs []byte
	switch {
	case hb[0] == 0x80:
		objs = hb[1:]
	case hb[0] == 0x00 && len(hb) >= 4:
		objs = hb[1 : len(hb)-3] // the status indicator closes them
	}
	c.Tables = compactCapabilities(objs)
	return c, nil
}

// compactCapabilities returns the value of the card capabilities object
// (tag 7, one to three bytes) among COMPACT-TLV objects, or nil when
// there is none or the objects are not well formed.
func compactCapabilities(objs []byte) []byte {
	var tables []byte
	for len(objs) > 0 {
		tag, n := objs[0]>>4, int(objs[0]&0x0F)
		if 1+n > len(objs) {
			return nil
		}
		if tag == 0x7 {
			if n == 0 || n > 3 {
				return nil
			}
			tables = append([]byte(nil), objs[1:1+n]...)
		}
		objs = objs[1+n:]
	}
	return tables
}

// Data objects of EF.ATR/INFO (9303-10 §3.11.1; ISO/IEC 7816-4 §12.7.1).
const (
	tagCardCapabilities tlv.Tag = 0x47
	tagLengthInfo       tlv.Tag = 0x7F66
	tagInteger          tlv.Tag = 0x02
)

// ParseATRInfo parses EF.ATR/INFO: interindustry BER-TLV data objects, of
// which it takes the card capabilities ('47') and the extended length
// information ('7F66', two INTEGERs: the largest command and response
// APDUs). Padding bytes 00 and FF between objects are skipped (ISO/IEC
// 7816-4 §5.2.2.1).
func ParseATRInfo(b []byte) (Capabilities, error) {
	c := Capabilities{Source: LengthATRInfo}
	for len(b) > 0 {
		if b[0] == 0x00 || b[0] == 0xFF {
			b = b[1:]
			continue
		}
		o, rest, err := tlv.Next(b)
		if err != nil {
			return Capabilities{}, fmt.Errorf("%w: EF.ATR/INFO: %w", ErrCapabilities, err)
		}
		switch o.Tag {
		case tagCardCapabilities:
			if len(o.Value) == 0 || len(o.Value) > 3 {
				return Capabilities{}, fmt.Errorf("%w: card capabilities of %d bytes", ErrCapabilities, len(o.Value))
			}
			c.Tables = append([]byte(nil), o.Value...)
		case tagLengthInfo:
			if c.Buffers, err = parseBufferSizes(o.Value); err != nil {
				return Capabilities{}, err
			}
		}
		b = rest
	}
	return c, nil
}

// parseBufferSizes decodes the value of DO'7F66': two INTEGERs, written
// as unsigned numbers (ISO/IEC 7816-4 shows '02 02 xx xx').
func parseBufferSizes(v []byte) (BufferSizes, error) {
	var n [2]int
	for i, limit := range [2]int{maxCommandAPDU, maxResponseAPDU} {
		o, rest, err := tlv.Next(v)
		if err != nil || o.Tag != tagInteger || len(o.Value) == 0 || len(o.Value) > 3 {
			return BufferSizes{}, fmt.Errorf("%w: extended length information", ErrCapabilities)
		}
		for _, x := range o.Value {
			n[i] = n[i]<<8 | int(x)
		}
		if n[i] == 0 || n[i] > limit {
			return BufferSizes{}, fmt.Errorf("%w: buffer size %d", ErrCapabilities, n[i])
		}
		v = rest
	}
	return BufferSizes{Command: n[0], Response: n[1]}, nil
}

// MarshalATRInfo encodes c as the content of EF.ATR/INFO: the card
// capabilities when c has tables, the extended length information when
// it states buffer sizes.
func (c Capabilities) MarshalATRInfo() []byte {
	var b []byte
	if len(c.Tables) > 0 {
		b = tlv.Append(b, tagCardCapabilities, c.Tables)
	}
	if c.Stated() {
		var v []byte
		v = tlv.Append(v, tagInteger, unsigned(c.Buffers.Command))
		v = tlv.Append(v, tagInteger, unsigned(c.Buffers.Response))
		b = tlv.Append(b, tagLengthInfo, v)
	}
	return b
}

// unsigned encodes n in two bytes, or three above 65535.
func unsigned(n int) []byte {
	if n > 0xFFFF {
		return []byte{byte(n >> 16), byte(n >> 8), byte(n)}
	}
	return []byte{byte(n >> 8), byte(n)}
}
