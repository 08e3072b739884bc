package icao

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

func TestParseDG1Specimens(t *testing.T) {
	for _, sp := range loadMRZVectors(t).Specimens {
		t.Run(sp.ID, func(t *testing.T) {
			lines := sp.Lines
			if sp.LinesCorrected != nil {
				lines = sp.LinesCorrected
			}
			b := EncodeDG1(strings.Join(lines, "\n"))
			want, err := ParseMRZ(strings.Join(lines, "\n"))
			require.NoError(t, err)
			d, err := ParseDG1(b)
			require.NoError(t, err)
			assert.Equal(t, want, d.MRZ)
			assert.Empty(t, d.Invalid)
			assert.NoError(t, d.Err())
			assert.Equal(t, b, d.Raw)
			assert.Equal(t, tlv.Tag(0x61), tlv.Tag(b[0]))
			assert.Equal(t, b, EncodeDG1(strings.Join(lines, "")))
		})
	}
}

func TestParseDG1InvalidFields(t *testing.T) {
	tests := []struct {
		name   string
		mrz    string
		fields []string
	}{
		{"errata composite", "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nL898902C<3UTO6908061F9406236<<<<<<<8", []string{"composite"}},
		{"document number", edit(td3, 1, 9, '7'), []string{"document number", "composite"}},
		{"date and sex", withField(edit(td1, 1, 7, 'Q'), 1, 0, "740231"), []string{"date of birth", "sex"}},
		{"unknown birth day", withField(td3, 1, 13, "7408<<"), []string{"date of birth"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDG1(EncodeDG1(tc.mrz))
			require.NoError(t, err)
			require.NotNil(t, d.MRZ)
			var fields []string
			for _, e := range d.Invalid {
				fields = append(fields, string(e.Field))
			}
			assert.Equal(t, tc.fields, fields)
			err = d.Err()
			assert.ErrorIs(t, err, ErrMRZ)
			var e *MRZError
			require.True(t, errors.As(err, &e))
			assert.Equal(t, tc.fields[0], string(e.Field))
		})
	}
}

func TestParseDG1Errors(t *testing.T) {
	mrz := []byte(strings.ReplaceAll(td3, "\n", ""))
	tests := []struct {
		name  string
		in    []byte
		msg   string
		isMRZ bool
	}{
		{"empty", nil, "empty input", false},
		{"wrong tag", tlv.Encode(0x60, tlv.Encode(0x5F1F, mrz)), "tag 60 where 61 was expected", false},
		{"wrong inner tag", tlv.Encode(0x61, tlv.Encode(0x5F1E, mrz)), "tag 5F1E where 5F1F was expected", false},
		{"two objects", tlv.Encode(0x61, append(tlv.Encode(0x5F1F, mrz), 0x53, 0x00)), "2 bytes after tag 5F1F", false},
		{"truncated", EncodeDG1(td3)[:50], "declares 91 bytes", false},
		{"absurd length", unhex(t, "61 84 7F FF FF FF 5F 1F"), "declares 2147483647 bytes", false},
		{"89 characters", tlv.Encode(0x61, tlv.Encode(0x5F1F, mrz[:87])), reasonLayout, true},
		{"lowercase", tlv.Encode(0x61, tlv.Encode(0x5F1F, []byte(strings.ToLower(string(mrz))))), "line 1: " + reasonLowercase, true},
		{"NUL", tlv.Encode(0x61, tlv.Encode(0x5F1F, append(mrz[:87:87], 0))), "line 2: " + reasonCharacter, true},
		{"line break kept", tlv.Encode(0x61, tlv.Encode(0x5F1F, []byte(td3))), reasonLayout, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDG1(tc.in)
			assert.Nil(t, d)
			require.ErrorIs(t, err, ErrMalformedLDS)
			assert.ErrorContains(t, err, tc.msg)
			assert.Equal(t, tc.isMRZ, errors.Is(err, ErrMRZ))
			assert.NotContains(t, err.Error(), "ERIKSSON")
		})
	}
}

func TestParseDG1CopiesInput(t *testing.T) {
	b := EncodeDG1(td1)
	d, err := ParseDG1(b)
	require.NoError(t, err)
	clear(b)
	assert.Equal(t, "ERIKSSON", d.MRZ.PrimaryIdentifier)
	assert.Equal(t, byte(0x61), d.Raw[0])
}
