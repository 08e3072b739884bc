package vchip

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
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
			if !errors.Is(err, ErrChipJSON) {
				t.Fatalf("error %v does not wrap ErrChipJSON", err)
			}
			if ds.MRZInformation != nil || !reflect.ValueOf(ds.Config).IsZero() {
				t.Fatal("a failed parse set fields")
			}
			return
		}
		cf, ok := ds.chipFile()
		if !ok {
			if ds.MRZInformation != nil || !reflect.ValueOf(ds.Config).IsZero() {
				t.Fatal("chipFile dropped settings")
			}
			return
		}
		out, err := json.Marshal(cf)
		if err != nil {
			t.Fatal(err)
		}
		var back Dataset
		if err := back.parseChipJSON(out); err != nil {
			t.Fatalf("re-reading %s: %v", out, err)
		}
		if !bytes.Equal(back.MRZInformation, ds.MRZInformation) || !reflect.DeepEqual(back.Config, ds.Config) {
			t.Fatalf("round trip changed the dataset:\n%+v\n%+v", ds.Config, back.Config)
		}
	})
}
