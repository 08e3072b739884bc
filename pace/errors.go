package pace

import (
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Errors of [Open] and of the parsers. An error from a chip status word
// also wraps the icao.StatusWord, so errors.As can log it.
var (
	// ErrNotSupported means the terminal cannot run the PACEInfo (unknown
	// protocol, version other than 2, unknown or untrusted domain
	// parameters, IM on P-224), or the chip refused it at MSE:Set AT or at
	// the first GENERAL AUTHENTICATE (6A80 "algorithm not supported", 6A88
	// "password or domain parameters not available", 6D00, … 9303-11
	// §4.4.4.1). Try another PACEInfo, or BAC.
	ErrNotSupported = errors.New("pace: protocol not supported")

	// ErrAccessDenied means the password is wrong: the chip rejected the
	// terminal's authentication token (6300, 63Cx, 6982, 6983, 6985 or 6A80
	// at the last GENERAL AUTHENTICATE; 9303-11 §4.4.4.2, field notes for
	// dmrtd#33/#36), or the chip's token did not verify ([ErrToken]). Ask
	// for the MRZ or CAN again; do not retry in a loop, chips may throttle.
	ErrAccessDenied = errors.New("pace: access denied (wrong MRZ or CAN?)")

	// ErrToken means the chip's authentication token T_IC did not verify.
	// A conforming chip rejects a wrong password first, so this is either a
	// chip that does not check T_IFD or one that does not know the
	// password; it also matches ErrAccessDenied.
	ErrToken error = tokenError{}

	// ErrMalformed means chip data could not be decoded: a truncated or
	// wrongly tagged dynamic authentication data object, a missing data
	// object, a nonce of a bad length, or malformed SecurityInfos.
	ErrMalformed = errors.New("pace: malformed data")

	// ErrInvalidKey means a public key from the peer failed validation: not
	// on the curve, the point at infinity, a coordinate not below p, a DH
	// value out of range or outside the subgroup, or equal to our own.
	ErrInvalidKey = errors.New("pace: invalid public key")

	// ErrCAM means the Chip Authentication Mapping data did not verify: it
	// did not decrypt or PK_Map,IC ≠ CA_IC·PK_IC (9303-11 §4.4.3.5.2). The
	// chip is not the one the public key belongs to.
	ErrCAM = errors.New("pace: chip authentication mapping does not verify")

	// ErrNoChipKey means the SecurityInfos hold no Chip Authentication
	// public key for the PACE-CAM domain parameters, so the chip was not
	// checked.
	ErrNoChipKey = errors.New("pace: no chip authentication public key")

	// ErrPassword means the password given to [CAN] or [NewCard] is not
	// valid.
	ErrPassword = errors.New("pace: invalid password")
)

type tokenError struct{}

func (tokenError) Error() string { return "pace: chip authentication token does not verify" }

// Is makes ErrToken match ErrAccessDenied.
func (tokenError) Is(target error) bool { return target == ErrAccessDenied }

// mseRejected classifies a status word answering MSE:Set AT or the first
// GENERAL AUTHENTICATE: anything but a retry counter means the chip will not
// run this protocol with this password.
func mseRejected(step string, sw icao.StatusWord) error {
	if sw&0xFFF0 == 0x63C0 || sw == icao.StatusAuthBlocked {
		return fmt.Errorf("pace: %s: %w: %w", step, ErrAccessDenied, sw)
	}
	return fmt.Errorf("pace: %s: %w: %w", step, ErrNotSupported, sw)
}

// authRejected classifies a status word answering the mutual
// authentication step.
func authRejected(sw icao.StatusWord) error {
	switch {
	case errors.Is(sw, icao.ErrAuthFailed), sw == icao.StatusSecurityNotSatisfied,
		sw == icao.StatusConditionsNotMet, sw == icao.StatusWrongData:
		return fmt.Errorf("pace: mutual authentication: %w: %w", ErrAccessDenied, sw)
	}
	return fmt.Errorf("pace: mutual authentication: %w", sw)
}
