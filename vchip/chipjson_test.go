package vchip

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzChipJSON parses arbitrary chip.json content: no panic, nothing set
// on error, and what parses survives a write and a re-read unchanged.
func FuzzChipJSON(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"comment": "x", "mrz_information": "L898902C<369080619406236"}`))
	f.Add([]byte(`{"quirks": {"no_extended_length": true, "max_le": 192, "over_le": "truncate", "eof_status": "6282", "latency": "9ms", "atr": "3b80800101"}}`))
	f.Add([]byte(`{"quirks": {"no_short_ef": true, "no_short_ef_status": "6b00", "select_mf_status": "6a86", "plain_after_sm": "6987", "remove_after": 3}}`))
	f.Add([]byte(`{"quirks": {"no_extended_read_binary": true, "atr_info_command": 1024, "atr_info_response": 65535}}`))
	f.Add([]byte(`{"mrz": "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var ds Dataset
		if err := ds.parseChipJSON(b); err != nil {
			require.ErrorIs(t, err, ErrChipJSON)
			require.Nil(t, ds.MRZInformation, "a failed parse set fields")
			require.Zero(t, ds.Config, "a failed parse set fields")
			return
		}
		cf, ok := ds.chipFile()
		if !ok {
			require.Nil(t, ds.MRZInformation, "chipFile dropped settings")
			require.Zero(t, ds.Config, "chipFile dropped settings")
			return
		}
		out, err := json.Marshal(cf)
		require.NoError(t, err)
		var back Dataset
		require.NoError(t, back.parseChipJSON(out), "re-reading %s", out)
		require.Equal(t, string(ds.MRZInformation), string(back.MRZInformation), "round trip changed the dataset") // nil and empty alike
		require.Equal(t, ds.Config, back.Config, "round trip changed the dataset")
	})
}
