package mrtd

import (
	"log/slog"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
)

// Outcome is the result of one authenticity check of a read. The CLI, the
// API and the metrics present it; none of them decides it again.
type Outcome string

// Outcomes of a check.
const (
	// Passed: the chip proved that it holds the private key whose public
	// key its files carry. It counts as authentic only together with
	// passive authentication of those files.
	Passed Outcome = "passed"
	// Failed: the chip did not prove it: a wrong answer, a signature that
	// does not verify, or a refusal of a protocol its files offer. A
	// clone is suspected.
	Failed Outcome = "failed"
	// NotOffered: the chip's files offer no such protocol.
	NotOffered Outcome = "not_offered"
	// Unsupported: the chip offers the protocol with parameters this
	// reader does not implement, or the reader cannot carry the APDUs it
	// needs.
	Unsupported Outcome = "unsupported"
	// NotRun: the check did not run, for example because the read ended
	// first.
	NotRun Outcome = "not_run"
)

// String returns the outcome, NotRun for the zero value.
func (o Outcome) String() string {
	if o == "" {
		return string(NotRun)
	}
	return string(o)
}

// MarshalText returns [Outcome.String].
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// ChipMethod is how a chip authenticated itself.
type ChipMethod string

// Methods of chip authentication.
const (
	// MethodCA is Chip Authentication (9303-11 §6.2) after BAC or PACE.
	MethodCA ChipMethod = "CA"
	// MethodPACECAM is PACE with the Chip Authentication Mapping (9303-11
	// §4.4.3.5), which authenticates the chip within PACE.
	MethodPACECAM ChipMethod = "PACE-CAM"
)

// MarshalText returns the method's name.
func (m ChipMethod) MarshalText() ([]byte, error) { return []byte(m), nil }

// Authenticity is the verdict on whether the document is genuine, decided
// here and nowhere else.
type Authenticity struct {
	// Passive is passive authentication: EF.SOD's signature and chain,
	// and the data groups' hashes.
	Passive PassiveCheck `json:"passive"`
	// Chip is Chip Authentication or PACE-CAM.
	Chip ChipCheck `json:"chip"`
	// Active is Active Authentication.
	Active ActiveCheck `json:"active"`
}

// Clone reports whether chip or active authentication failed: the chip
// did not prove it holds a key its files carry. [Authenticity.Problem]
// decides what that means for the read.
func (a Authenticity) Clone() bool {
	return a.Chip.Outcome == Failed || a.Active.Outcome == Failed
}

// ChipCheck is the outcome of chip authentication.
type ChipCheck struct {
	Outcome Outcome `json:"outcome"`
	// Method is CA or PACE-CAM; empty when neither ran.
	Method ChipMethod `json:"method,omitempty"`
	// Protocol is the CA protocol; zero after PACE-CAM.
	Protocol chipauth.Protocol `json:"protocol,omitzero"`
	// KeyID is the keyId of the chip's key, or chipauth.NoKeyID.
	KeyID int `json:"-"`
	// Inferred is set when DG14 named no protocol and CA ran with the
	// 3DES protocol 9303-11 §6.2 implies.
	Inferred bool `json:"inferred,omitempty"`
	// Source is the file the key came from, DG14 or EF.CardSecurity: the
	// result counts only when passive authentication covers it.
	Source icao.EF `json:"-"`
	// Reason says why the check failed or did not run.
	Reason string `json:"reason,omitempty"`
}

// LogValue logs the outcome, method, protocol and reason.
func (c ChipCheck) LogValue() slog.Value {
	return slog.GroupValue(slog.String("outcome", c.Outcome.String()), slog.String("method", string(c.Method)),
		slog.String("protocol", protocolName(c.Protocol)), slog.String("reason", c.Reason))
}

func protocolName(p chipauth.Protocol) string {
	if p == (chipauth.Protocol{}) {
		return ""
	}
	return p.String()
}

// ActiveCheck is the outcome of Active Authentication.
type ActiveCheck struct {
	Outcome Outcome `json:"outcome"`
	// Algorithm is what the signature used (or would have used).
	Algorithm activeauth.Algorithm `json:"algorithm,omitzero"`
	// Reason says why the check failed or did not run.
	Reason string `json:"reason,omitempty"`
	// Challenge and Response are the evidence a read keeps for offline
	// verification (activeauth.Verify): files, not logs or the API.
	Challenge []byte `json:"-"`
	Response  []byte `json:"-"`
}

// LogValue logs the outcome, algorithm and reason, not the evidence.
func (a ActiveCheck) LogValue() slog.Value {
	alg := ""
	if a.Algorithm.Scheme != 0 {
		alg = a.Algorithm.String()
	}
	return slog.GroupValue(slog.String("outcome", a.Outcome.String()), slog.String("algorithm", alg), slog.String("reason", a.Reason))
}
