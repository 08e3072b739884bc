package pace

import (
	"crypto/sha1"
	"fmt"
	"io"
	"log/slog"

	"github.com/nfcbridge/nfcbridge/sm"
)

// Password references in DO'83' of MSE:Set AT (9303-11 §4.4.4.1).
const (
	refMRZ byte = 0x01
	refCAN byte = 0x02
)

// canLength is the length of a Card Access Number (9303-11 §4.4, Parts 4–6).
const canLength = 6

// Password is the shared secret PACE authenticates with: the MRZ
// information or the Card Access Number (9303-11 §4.4, §9.7.3). It holds
// only the encoded password f(π) of table 14, SHA-1(MRZ_information) or the
// CAN digits, never the MRZ text.
//
// Password has no String method; it logs and formats as "redacted". Its
// zero value is not a password.
type Password struct {
	ref byte
	k   []byte // f(π)
}

// MRZ returns the MRZ password for MRZ_information, the document number,
// date of birth and date of expiry with their check digits (9303-11
// §4.3.2; icao.AccessKey.Information returns it). It keeps K =
// SHA-1(MRZ_information) (9303-11 §9.7.3, table 14); the caller may clear
// mrzInformation afterwards.
func MRZ(mrzInformation []byte) Password {
	sum := sha1.Sum(mrzInformation)
	return Password{ref: refMRZ, k: sum[:]}
}

// CAN returns the Card Access Number password. A CAN is 6 decimal digits
// (9303-11 §4.4, 9303-4/5/6); the encoding is the digits themselves
// (ISO/IEC 8859-1, 9303-11 §9.7.3). The error never repeats the input.
func CAN(can string) (Password, error) {
	if len(can) != canLength {
		return Password{}, fmt.Errorf("%w: CAN must have %d digits, got %d characters", ErrPassword, canLength, len(can))
	}
	for i := range len(can) {
		if can[i] < '0' || can[i] > '9' {
			return Password{}, fmt.Errorf("%w: CAN must have only digits", ErrPassword)
		}
	}
	return Password{ref: refCAN, k: []byte(can)}, nil
}

// LogValue keeps the password out of structured logs.
func (Password) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb (%v, %+v, %#v, %s, %x …), so
// that a stray Printf of a Password or of a struct holding one cannot
// print f(π).
func (Password) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// valid reports whether p came from [MRZ] or [CAN].
func (p Password) valid() bool { return (p.ref == refMRZ || p.ref == refCAN) && len(p.k) > 0 }

// key derives K_π = KDF(f(π), 3) for the protocol's cipher (9303-11
// §9.7.3).
func (p Password) key(suite sm.Suite, keyLen int) ([]byte, error) {
	return sm.DeriveKey(suite, keyLen, p.k, sm.KeyPACE)
}
