package sm

import (
	"fmt"
	"io"
	"log/slog"
)

// Suite is the secure messaging cipher suite (9303-11 §9.8.6, §9.8.7).
type Suite int

const (
	// TDES is 2-key 3DES-CBC with a zero IV, ISO/IEC 9797-1 MAC algorithm 3
	// (retail MAC) and an 8-byte SSC (9303-11 §9.8.6.1). Keys are 16 bytes.
	TDES Suite = iota + 1
	// AES is AES-CBC with IV = E(KSenc, SSC), AES-CMAC truncated to 8 bytes
	// and a 16-byte SSC (9303-11 §9.8.7, BSI TR-03110-3 §F.2). Keys are 16,
	// 24 or 32 bytes.
	AES
)

// String returns "3DES" or "AES".
func (s Suite) String() string {
	switch s {
	case TDES:
		return "3DES"
	case AES:
		return "AES"
	}
	return fmt.Sprintf("Suite(%d)", int(s))
}

// BlockSize returns the cipher block size in bytes (8 or 16), which is also
// the length of the SSC; 0 for an unknown suite.
func (s Suite) BlockSize() int {
	switch s {
	case TDES:
		return 8
	case AES:
		return 16
	}
	return 0
}

// validKeyLen reports whether n bytes is a key length the suite takes.
func (s Suite) validKeyLen(n int) bool {
	switch s {
	case TDES:
		return n == 16
	case AES:
		return n == 16 || n == 24 || n == 32
	}
	return false
}

// Keys are the session keys KSenc and KSmac and the initial send sequence
// counter. A nil SSC means zero, as after PACE (9303-11 §9.8.2); BAC starts
// it from the challenges (9303-11 §9.8.6.3). Constructors copy the keys in.
// Keys has no String method; it logs and formats as "redacted".
type Keys struct {
	Suite Suite
	// Enc and MAC are 16 bytes for TDES and 16, 24 or 32 bytes for AES.
	Enc, MAC []byte
	// SSC is Suite.BlockSize() bytes, or nil for zero.
	SSC []byte
}

// LogValue keeps the keys out of structured logs.
func (Keys) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the keys.
func (Keys) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// check validates the lengths; the errors name the field, never the value.
func (k Keys) check() error {
	if k.Suite != TDES && k.Suite != AES {
		return fmt.Errorf("sm: unknown suite %d", int(k.Suite))
	}
	if !k.Suite.validKeyLen(len(k.Enc)) {
		return fmt.Errorf("sm: %v encryption key of %d bytes", k.Suite, len(k.Enc))
	}
	if !k.Suite.validKeyLen(len(k.MAC)) {
		return fmt.Errorf("sm: %v MAC key of %d bytes", k.Suite, len(k.MAC))
	}
	if k.SSC != nil && len(k.SSC) != k.Suite.BlockSize() {
		return fmt.Errorf("sm: %v send sequence counter of %d bytes, want %d", k.Suite, len(k.SSC), k.Suite.BlockSize())
	}
	return nil
}
