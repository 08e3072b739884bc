package icao

import (
	"context"
	"fmt"
)

// AIDLDS1 returns the DF name of the LDS1 eMRTD application (9303-10
// §3.6.1), a fresh copy each time.
func AIDLDS1() []byte { return []byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01} }

// EF names an elementary file of an eMRTD (9303-10 §3.6, §4.6): the LDS1
// files EF.COM, EF.SOD and DG1–DG16 inside the eMRTD application, and
// EF.CardAccess, EF.CardSecurity and EF.ATR/INFO in the master file.
type EF uint8

// Elementary files.
const (
	EFCOM EF = iota + 1
	EFSOD
	EFDG1
	EFDG2
	EFDG3
	EFDG4
	EFDG5
	EFDG6
	EFDG7
	EFDG8
	EFDG9
	EFDG10
	EFDG11
	EFDG12
	EFDG13
	EFDG14
	EFDG15
	EFDG16
	EFCardAccess
	EFCardSecurity
	EFATRInfo
)

// DataGroup returns the file of data group n (1–16).
func DataGroup(n int) (EF, bool) {
	if n < 1 || n > 16 {
		return 0, false
	}
	return EFDG1 + EF(n-1), true
}

// DataGroup returns the data group number of f, or 0 when f is not a
// data group.
func (f EF) DataGroup() int {
	if f < EFDG1 || f > EFDG16 {
		return 0
	}
	return int(f-EFDG1) + 1
}

// FID returns the file identifier (9303-10 Table 38).
func (f EF) FID() uint16 {
	switch {
	case f == EFCOM:
		return 0x011E
	case f == EFSOD:
		return 0x011D
	case f.DataGroup() != 0:
		return 0x0100 + uint16(f.DataGroup())
	case f == EFCardAccess:
		return 0x011C
	case f == EFCardSecurity:
		return 0x011D
	case f == EFATRInfo:
		return 0x2F01
	}
	return 0
}

// SFI returns the short EF identifier, or 0 when the file has none.
func (f EF) SFI() byte {
	switch {
	case f == EFCOM:
		return 0x1E
	case f == EFSOD:
		return 0x1D
	case f.DataGroup() != 0:
		return byte(f.DataGroup())
	case f == EFCardAccess:
		return 0x1C
	case f == EFCardSecurity:
		return 0x1D
	case f == EFATRInfo:
		return 0x01
	}
	return 0
}

// InMF reports whether the file lives in the master file rather than in
// the eMRTD application.
func (f EF) InMF() bool {
	return f == EFCardAccess || f == EFCardSecurity || f == EFATRInfo
}

// String returns the file's name as 9303 writes it, e.g. "EF.COM", "DG2".
func (f EF) String() string {
	switch {
	case f == EFCOM:
		return "EF.COM"
	case f == EFSOD:
		return "EF.SOD"
	case f.DataGroup() != 0:
		return fmt.Sprintf("DG%d", f.DataGroup())
	case f == EFCardAccess:
		return "EF.CardAccess"
	case f == EFCardSecurity:
		return "EF.CardSecurity"
	case f == EFATRInfo:
		return "EF.ATR/INFO"
	}
	return fmt.Sprintf("EF(%d)", uint8(f))
}

// MarshalText returns [EF.String], so that JSON names files as 9303 does.
func (f EF) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText reads a name [EF.String] writes.
func (f *EF) UnmarshalText(b []byte) error {
	for _, e := range []EF{EFCOM, EFSOD, EFCardAccess, EFCardSecurity, EFATRInfo} {
		if string(b) == e.String() {
			*f = e
			return nil
		}
	}
	var n int
	if _, err := fmt.Sscanf(string(b), "DG%d", &n); err == nil {
		if e, ok := DataGroup(n); ok && e.String() == string(b) {
			*f = e
			return nil
		}
	}
	return fmt.Errorf("icao: %q is not the name of an eMRTD file", b)
}

// SelectApplication selects the LDS1 eMRTD application by its AID. It sends
// no Le: some chips reject a SELECT that carries one
// (AndyQ/NFCPassportReader#153).
func SelectApplication(ctx context.Context, t Transport) error {
	_, err := Exchange(ctx, t, Command{INS: InsSelect, P1: 0x04, P2: 0x0C, Data: AIDLDS1()})
	if err != nil {
		return fmt.Errorf("icao: select eMRTD application: %w", err)
	}
	return nil
}

// selectEF selects f by its file identifier, without Le.
func selectEF(ctx context.Context, t Transport, f EF) error {
	fid := f.FID()
	_, err := Exchange(ctx, t, Command{INS: InsSelect, P1: 0x02, P2: 0x0C, Data: []byte{byte(fid >> 8), byte(fid)}})
	return err
}
