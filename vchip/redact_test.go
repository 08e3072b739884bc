package vchip_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRedaction checks that no fmt verb and no slog handler prints the
// CAN, the chip key, the MRZ or the bytes of DG1 of a dataset or a chip.
func TestRedaction(t *testing.T) {
	loaded := loadSpecimen(t, "specimen-pace-only-cam")
	ds := *loaded
	ds.MRZInformation = []byte("L898902C<369080619406236")
	require.NotEmpty(t, ds.CAN)
	require.NotNil(t, ds.ChipKey)
	p := newPassport(t, &ds, nil)
	dg1 := ds.Files["DG1"]
	forbidden := map[string]string{
		"CAN": ds.CAN, "CAN (hex)": hex.EncodeToString([]byte(ds.CAN)),
		"chip key (hex)":  hex.EncodeToString(ds.ChipKey.Private),
		"chip key (dec)":  fmt.Sprint(ds.ChipKey.Private[:6]),
		"MRZ information": string(ds.MRZInformation), "MRZ name": "ERIKSSON", "document number": "L898902C",
		"DG1 (hex)": hex.EncodeToString(dg1[5:20]), "DG1 (dec)": fmt.Sprint(dg1[:6])[1:15],
	}
	tests := []struct {
		name string
		v    any
	}{
		{name: "Dataset", v: ds},
		{name: "*Dataset", v: &ds},
		{name: "*Passport", v: p},
		{name: "ChipKey", v: *ds.ChipKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := map[string]string{}
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
				out[verb] = fmt.Sprintf(verb, tc.v)
				assert.Equal(t, "redacted", out[verb], verb)
			}
			var js, text bytes.Buffer
			slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", tc.v)
			slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", tc.v)
			out["slog JSON"], out["slog text"] = js.String(), text.String()
			for how, s := range out {
				assert.Contains(t, s, "redacted", how)
				for what, secret := range forbidden {
					assert.NotContains(t, s, secret, "%s prints the %s", how, what)
				}
			}
		})
	}
}
