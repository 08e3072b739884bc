package mrtd_test

import (
	"crypto"
	"encoding/json"
	"testing"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pki"
)

// TestAuthenticityJSON: the verdicts read back from their JSON (the
// daemon stores read summaries across restarts), and the AA evidence is
// not in it.
func TestAuthenticityJSON(t *testing.T) {
	a := mrtd.Authenticity{
		Passive: mrtd.PassiveCheck{Status: pki.StatusValid, Hashes: mrtd.Failed, Mismatched: []icao.EF{icao.EFDG2}},
		Chip:    mrtd.ChipCheck{Outcome: mrtd.Passed, Method: mrtd.MethodCA, Protocol: chipauth.Protocol{KeyAgreement: chipauth.ECDH, Cipher: chipauth.AES128}},
		Active: mrtd.ActiveCheck{Outcome: mrtd.Passed, Algorithm: activeauth.Algorithm{Scheme: activeauth.ISO9796, Hash: crypto.SHA256, Key: "RSA-2048"},
			Challenge: []byte{1, 2, 3, 4, 5, 6, 7, 8}, Response: []byte{9}},
	}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var back mrtd.Authenticity
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	a.Active.Challenge, a.Active.Response = nil, nil
	if back.Chip != a.Chip || back.Active.Algorithm != a.Active.Algorithm || back.Passive.Status != a.Passive.Status ||
		len(back.Passive.Mismatched) != 1 || back.Passive.Mismatched[0] != icao.EFDG2 {
		t.Errorf("read back %+v from %s", back, b)
	}
	if back.Active.Challenge != nil {
		t.Error("the AA challenge is in the JSON")
	}
	// A failed check knows the key but not the hash.
	failed := activeauth.Algorithm{Scheme: activeauth.ISO9796, Key: "RSA-2048"}
	text, _ := failed.MarshalText()
	var got activeauth.Algorithm
	if err := got.UnmarshalText(text); err != nil || got != failed {
		t.Errorf("%q read back as %+v, %v", text, got, err)
	}
}
