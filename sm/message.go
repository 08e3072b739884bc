package sm

import (
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao"
)

// claSM are the class bits of ISO/IEC 7816-4 §5.4.1 that announce secure
// messaging with an authenticated header.
const claSM byte = 0x0C

// commandBodyLen is the length of the protected data field of a command
// with nc data bytes and expected length ne.
func (c *channel) commandBodyLen(nc, ne int, odd bool) int {
	n := doLen(macLen)
	if nc > 0 {
		n += cryptogramLen(nc, c.bs(), odd)
	}
	if ne > 0 {
		n += doLen(len(leBytes(ne)))
	}
	return n
}

// leBytes encodes Ne for DO'97': one byte up to 256 (256 as 00), two bytes
// above (65536 as 0000).
func leBytes(ne int) []byte {
	if ne <= icao.MaxShortNe {
		return []byte{byte(ne)}
	}
	return []byte{byte(ne >> 8), byte(ne)}
}

// protectCommand increments the SSC and returns the protected form of cmd
// (9303-11 §9.8.4). The protected APDU is extended when its body exceeds 255
// bytes or when Ne exceeds maxShortLe. On error the caller restores the SSC.
func (c *channel) protectCommand(cmd icao.Command, maxShortLe int) ([]byte, error) {
	// Only the first interindustry classes without SM or chaining: the
	// logical channel bits 0–1 may be set.
	if cmd.CLA&^0x03 != 0 {
		return nil, fmt.Errorf("%w: class byte %02X", ErrUnsupportedCommand, cmd.CLA)
	}
	odd := cmd.INS&1 == 1
	if c.commandBodyLen(len(cmd.Data), cmd.Ne, odd) > maxNc {
		return nil, fmt.Errorf("%w: %d data bytes do not fit a protected APDU", ErrUnsupportedCommand, len(cmd.Data))
	}
	header := []byte{cmd.CLA | claSM, cmd.INS, cmd.P1, cmd.P2}
	c.incSSC()
	macInput := Pad(header, c.bs())
	if len(cmd.Data) > 0 {
		ct, err := c.encrypt(cmd.Data)
		if err != nil {
			return nil, err
		}
		macInput = appendCryptogram(macInput, ct, odd)
	}
	if cmd.Ne > 0 {
		le := leBytes(cmd.Ne)
		macInput = append(macInput, tagLe, byte(len(le)))
		macInput = append(macInput, le...)
	}
	cc, err := c.checksum(macInput)
	if err != nil {
		return nil, err
	}
	body := append(macInput[c.bs():], tagChecksum, macLen)
	body = append(body, cc...)
	ne := icao.MaxShortNe
	if len(body) > 255 || cmd.Ne > maxShortLe {
		ne = icao.MaxExtendedNe
	}
	return icao.Command{CLA: header[0], INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: body, Ne: ne}.Marshal()
}

// unprotectResponse increments the SSC, verifies the protected response r
// and returns the plain response APDU (data ‖ SW1 SW2).
func (c *channel) unprotectResponse(r icao.Response) ([]byte, error) {
	d, err := parseDOs(r.Data, true, c.bs())
	if err != nil {
		return nil, err
	}
	c.incSSC()
	if err := c.verify(d.macInput, d.mac); err != nil {
		return nil, err
	}
	if sw := icao.StatusWord(d.sw[0])<<8 | icao.StatusWord(d.sw[1]); sw != r.SW {
		return nil, ErrStatus
	}
	var plain []byte
	if d.crypt != nil {
		if plain, err = c.decrypt(d.crypt); err != nil {
			return nil, err
		}
	}
	return append(plain, d.sw...), nil
}

// unprotectCommand increments the SSC, verifies the protected command and
// returns the plain command; CLA loses the SM bits.
func (c *channel) unprotectCommand(capdu []byte) (icao.Command, error) {
	cmd, err := icao.ParseCommand(capdu)
	if err != nil {
		return icao.Command{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if cmd.CLA&claSM != claSM {
		return icao.Command{}, fmt.Errorf("%w: command without secure messaging", ErrMissing)
	}
	d, err := parseDOs(cmd.Data, false, c.bs())
	if err != nil {
		return icao.Command{}, err
	}
	c.incSSC()
	macInput := Pad(capdu[:4], c.bs())
	macInput = append(macInput, d.macInput...)
	if err := c.verify(macInput, d.mac); err != nil {
		return icao.Command{}, err
	}
	plain := icao.Command{CLA: cmd.CLA &^ claSM, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2}
	if d.crypt != nil {
		if plain.Data, err = c.decrypt(d.crypt); err != nil {
			return icao.Command{}, err
		}
	}
	if d.hasLe {
		plain.Ne = decodeLe(d.le)
	}
	return plain, nil
}

// decodeLe is the inverse of leBytes.
func decodeLe(le []byte) int {
	if len(le) == 1 {
		if le[0] == 0 {
			return icao.MaxShortNe
		}
		return int(le[0])
	}
	if n := int(le[0])<<8 | int(le[1]); n != 0 {
		return n
	}
	return icao.MaxExtendedNe
}

// protectResponse increments the SSC and returns the protected form of the
// plain response r: DO'87' (DO'85' after an odd-INS command) when there is
// data, DO'99', DO'8E', then the status word.
func (c *channel) protectResponse(r icao.Response, odd bool) ([]byte, error) {
	c.incSSC()
	var body []byte
	if len(r.Data) > 0 {
		ct, err := c.encrypt(r.Data)
		if err != nil {
			return nil, err
		}
		body = appendCryptogram(body, ct, odd)
	}
	sw1, sw2 := byte(r.SW>>8), byte(r.SW)
	body = append(body, tagStatus, 2, sw1, sw2)
	cc, err := c.checksum(body)
	if err != nil {
		return nil, err
	}
	body = append(body, tagChecksum, macLen)
	body = append(body, cc...)
	return append(body, sw1, sw2), nil
}
