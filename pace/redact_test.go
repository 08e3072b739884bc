package pace

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// render prints v with every fmt verb a stray log line might use, and
// through slog's JSON and text handlers.
func render(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
		out[verb] = fmt.Sprintf(verb, v)
	}
	var js, text bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", v)
	out["slog JSON"], out["slog text"] = js.String(), text.String()
	return out
}

// TestRedaction checks that no fmt verb and no slog handler prints a
// password, a key or chip authentication data, alone or inside a struct.
func TestRedaction(t *testing.T) {
	const can = "493718"
	mrzInfo := "L898902C<369080619406236"
	mrzKey := sha1.Sum([]byte(mrzInfo))
	d, _ := new(big.Int).SetString("7f4ef07b9ea82fd78ad689b38d0bc78cf21f249d953bc46f4c6e19259c010f99", 16)
	key, err := NewChipKey(13, d.Bytes())
	require.NoError(t, err)
	canPW := mustCAN(t, can)
	mrzPW := MRZ([]byte(mrzInfo))
	cfg := CardConfig{Passwords: []Password{canPW, mrzPW}, ChipKey: key}
	card, err := NewCard(cfg)
	require.NoError(t, err)
	ca := big.NewInt(0x5eed5eed5eed)
	cam := &CAM{c: key.c, id: 13, ca: ca, mapKey: key.PublicKey()}

	forbidden := map[string]string{
		"CAN": can, "CAN (hex)": hex.EncodeToString([]byte(can)), "CAN (bytes)": fmt.Sprint([]byte(can)),
		"MRZ information": mrzInfo, "K (hex)": hex.EncodeToString(mrzKey[:]), "K (bytes)": strings.Trim(fmt.Sprint(mrzKey[:4]), "[]"),
		"d (hex)": d.Text(16), "d (decimal)": d.String(), "CA_IC (decimal)": ca.String(), "CA_IC (hex)": ca.Text(16),
	}
	type holder struct {
		Password Password
		Key      *ChipKey
		Config   CardConfig
	}
	// For the containers, slog's JSON handler marshals the fields, which
	// have no exported fields: nothing leaks, but nothing says "redacted".
	tests := []struct {
		name      string
		v         any
		container bool
	}{
		{name: "CAN password", v: canPW},
		{name: "MRZ password", v: mrzPW},
		{name: "*Password", v: &canPW},
		{name: "ChipKey", v: *key},
		{name: "*ChipKey", v: key},
		{name: "CardConfig", v: cfg},
		{name: "*CardConfig", v: &cfg},
		{name: "*Card", v: card},
		{name: "CAM", v: *cam},
		{name: "*CAM", v: cam},
		{name: "struct holding them", v: holder{canPW, key, cfg}, container: true},
		{name: "Result with CAM", v: Result{CAM: cam}, container: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for how, s := range render(t, tc.v) {
				if !tc.container || how != "slog JSON" {
					assert.Contains(t, s, "redacted", "%s", how)
				}
				for what, secret := range forbidden {
					assert.NotContains(t, s, secret, "%s prints the %s", how, what)
				}
			}
		})
	}
	assert.Equal(t, "redacted", fmt.Sprintf("%d", canPW), "the whole output is the placeholder")
	assert.Equal(t, "{Password:redacted Key:redacted Config:redacted}", fmt.Sprintf("%+v", holder{canPW, key, cfg}))
}
