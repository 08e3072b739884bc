package mrtd_test

import (
	"crypto"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err)
	var back mrtd.Authenticity
	require.NoError(t, json.Unmarshal(b, &back), "%s", b)
	a.Active.Challenge, a.Active.Response = nil, nil
	assert.Equal(t, a.Chip, back.Chip, "read back from %s", b)
	assert.Equal(t, a.Active.Algorithm, back.Active.Algorithm, "read back from %s", b)
	assert.Equal(t, a.Passive.Status, back.Passive.Status, "read back from %s", b)
	assert.Equal(t, []icao.EF{icao.EFDG2}, back.Passive.Mismatched, "read back from %s", b)
	assert.Nil(t, back.Active.Challenge, "the AA challenge is in the JSON")
	// A failed check knows the key but not the hash.
	failed := activeauth.Algorithm{Scheme: activeauth.ISO9796, Key: "RSA-2048"}
	text, _ := failed.MarshalText()
	var got activeauth.Algorithm
	assert.NoError(t, got.UnmarshalText(text), "%q", text)
	assert.Equal(t, failed, got, "%q read back", text)
}
