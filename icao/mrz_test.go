package icao

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// mrzVectors mirrors mrz.json.
type mrzVectors struct {
	Examples []struct {
		Label                   string `json:"label"`
		Input                   string `json:"input"`
		CheckDigit              string `json:"check_digit"`
		MRZLine                 string `json:"mrz_line,omitempty"`
		MRZUpperLine            string `json:"mrz_upper_line,omitempty"`
		MRZMiddleLine           string `json:"mrz_middle_line,omitempty"`
		MRZLineWithoutComposite string `json:"mrz_line_without_composite,omitempty"`
	} `json:"part3_appendix_a_examples"`
	Specimens []struct {
		ID                string            `json:"id"`
		Format            string            `json:"format"`
		Lines             []string          `json:"mrz_lines"`
		LinesCorrected    []string          `json:"mrz_lines_corrected,omitempty"`
		PrintedComposite  string            `json:"composite_check_digit_printed_in_source,omitempty"`
		Fields            map[string]any    `json:"fields"`
		CompositeInput    string            `json:"composite_input"`
		CheckDigits       map[string]string `json:"check_digits"`
		MRZInformation    string            `json:"mrz_information"`
		MRZInformationSHA string            `json:"mrz_information_sha1_hex"`
		Kseed             string            `json:"bac_kseed_hex"`
	} `json:"specimens"`
	PACE []struct {
		Label           string   `json:"label"`
		DocumentNumber  string   `json:"document_number"`
		DateOfBirth     string   `json:"date_of_birth"`
		DateOfExpiry    string   `json:"date_of_expiry"`
		WithCheckDigits []string `json:"fields_with_check_digits"`
		MRZInformation  string   `json:"mrz_information"`
	} `json:"pace_mrz_passwords"`
	ThirdParty []struct {
		ID             string            `json:"id"`
		Lines          []string          `json:"mrz_lines"`
		CompositeInput string            `json:"composite_input"`
		CheckDigits    map[string]string `json:"check_digits"`
		MRZInformation string            `json:"mrz_information"`
	} `json:"third_party"`
}

func loadMRZVectors(t *testing.T) mrzVectors {
	t.Helper()
	var v mrzVectors
	testvectors.Load(t, "mrz.json", &v)
	require.NotEmpty(t, v.Examples)
	require.NotEmpty(t, v.Specimens)
	require.NotEmpty(t, v.PACE)
	return v
}

func TestCheckDigitAppendixA(t *testing.T) {
	for _, ex := range loadMRZVectors(t).Examples {
		t.Run(ex.Label, func(t *testing.T) {
			cd, err := CheckDigit(ex.Input)
			require.NoError(t, err)
			assert.Equal(t, ex.CheckDigit, string(cd))
		})
	}
}

// TestParseMRZAppendixA parses the lines of Examples 3–5 completed with
// a name line, which no check digit covers.
func TestParseMRZAppendixA(t *testing.T) {
	v := loadMRZVectors(t)
	texts := map[string]string{
		v.Examples[2].Label: pad("P<YTOSPECIMEN<<TEST", 44) + "\n" + v.Examples[2].MRZLine,
		v.Examples[3].Label: v.Examples[3].MRZUpperLine + "\n" + v.Examples[3].MRZMiddleLine + "\n" + pad("SPECIMEN<<TEST", 30),
		v.Examples[4].Label: pad("I<YTOSPECIMEN<<TEST", 36) + "\n" + v.Examples[4].MRZLine,
	}
	for label, text := range texts {
		t.Run(label, func(t *testing.T) {
			m, err := ParseMRZ(text)
			require.NoError(t, err)
			assert.Equal(t, "SPECIMEN", m.PrimaryIdentifier)
			assert.Equal(t, "TEST", m.SecondaryIdentifier)
		})
	}
}

func pad(s string, n int) string { return s + strings.Repeat("<", n-len(s)) }

func TestParseMRZSpecimens(t *testing.T) {
	for _, sp := range loadMRZVectors(t).Specimens {
		t.Run(sp.ID, func(t *testing.T) {
			lines := sp.Lines
			if sp.LinesCorrected != nil {
				lines = sp.LinesCorrected
			}
			m, err := ParseMRZ(strings.Join(lines, "\n"))
			require.NoError(t, err)
			assert.Equal(t, sp.Format, m.Format.String())
			checkSpecimenFields(t, m, sp.Fields)
			l := layoutFor(1, formatLength(m.Format))
			s := strings.Join(lines, "")
			assert.Equal(t, sp.CompositeInput, l.compositeInput(s))
			assert.Equal(t, sp.CheckDigits["composite"], string(s[l.compositeCD]))
			for field, value := range map[string]string{"document_number": m.DocumentNumber, "date_of_birth": m.DateOfBirth, "date_of_expiry": m.DateOfExpiry} {
				if field == "document_number" && len(value) < 9 {
					value = pad(value, 9)
				}
				cd, _ := CheckDigit(value)
				assert.Equal(t, sp.CheckDigits[field], string(cd), field)
			}
			if cd, ok := sp.CheckDigits["personal_number"]; ok {
				assert.Equal(t, cd, string(s[l.opt1CD]))
			}
			checkInformation(t, m.AccessKey(), sp.MRZInformation, sp.MRZInformationSHA, sp.Kseed)
		})
	}
}

// TestParseMRZErrata checks that the composite check digits printed in
// 9303-11 D.2, which are wrong, are rejected as such.
func TestParseMRZErrata(t *testing.T) {
	n := 0
	for _, sp := range loadMRZVectors(t).Specimens {
		if sp.PrintedComposite == "" {
			continue
		}
		n++
		t.Run(sp.ID, func(t *testing.T) {
			_, err := ParseMRZ(strings.Join(sp.Lines, "\n"))
			var e *MRZError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, &MRZError{Field: "composite", Reason: reasonCheckDigit}, e)
		})
	}
	assert.Equal(t, 2, n)
}

func checkSpecimenFields(t *testing.T, m *MRZ, fields map[string]any) {
	t.Helper()
	want := map[string]string{
		"document_code":   m.DocumentCode,
		"issuing_state":   m.IssuingState,
		"document_number": m.DocumentNumber,
		"nationality":     m.Nationality,
		"date_of_birth":   m.DateOfBirth,
		"sex":             string(m.Sex),
		"date_of_expiry":  m.DateOfExpiry,
		"personal_number": m.OptionalData1,
		"optional_data":   m.OptionalData1,
		"optional_data_1": m.OptionalData1,
		"optional_data_2": m.OptionalData2,
	}
	for key, value := range fields {
		switch key {
		case "name":
			p, s := splitName(value.(string))
			assert.Equal(t, p, m.PrimaryIdentifier)
			assert.Equal(t, s, m.SecondaryIdentifier)
			assert.NotContains(t, m.PrimaryIdentifier+m.SecondaryIdentifier, "<")
		case "extended_document_number":
			assert.Equal(t, value, len(m.DocumentNumber) > 9)
		case "document_number":
			assert.Equal(t, strings.TrimRight(value.(string), "<"), m.DocumentNumber)
		default:
			got, ok := want[key]
			require.True(t, ok, "unknown field %q in mrz.json", key)
			assert.Equal(t, value, got, key)
		}
	}
}

func checkInformation(t *testing.T, k AccessKey, info, sha, kseed string) {
	t.Helper()
	got := k.Information()
	assert.Equal(t, info, string(got))
	sum := sha1.Sum(got)
	if sha != "" {
		assert.Equal(t, sha, hex.EncodeToString(sum[:]))
	}
	if kseed != "" {
		assert.Equal(t, kseed, hex.EncodeToString(sum[:16]))
	}
}

func TestAccessKeyPACEPasswords(t *testing.T) {
	for _, p := range loadMRZVectors(t).PACE {
		t.Run(p.Label, func(t *testing.T) {
			k, err := NewAccessKey(p.DocumentNumber, p.DateOfBirth, p.DateOfExpiry)
			require.NoError(t, err)
			checkInformation(t, k, p.MRZInformation, "", "")
			assert.Equal(t, strings.Join(p.WithCheckDigits, ""), string(k.Information()))
			lower, err := NewAccessKey(" "+strings.ToLower(p.DocumentNumber)+" ", p.DateOfBirth, p.DateOfExpiry)
			require.NoError(t, err)
			assert.Equal(t, k, lower)
		})
	}
}

func TestParseMRZThirdParty(t *testing.T) {
	for _, tp := range loadMRZVectors(t).ThirdParty {
		t.Run(tp.ID, func(t *testing.T) {
			m, err := ParseMRZ(strings.Join(tp.Lines, "\n"))
			require.NoError(t, err)
			l := layoutFor(1, formatLength(m.Format))
			assert.Equal(t, tp.CompositeInput, l.compositeInput(strings.Join(tp.Lines, "")))
			checkInformation(t, m.AccessKey(), tp.MRZInformation, "", "")
		})
	}
}

// Valid specimens that the error rows below modify.
const (
	td3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
	td1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
	td2 = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\nD231458907UTO7408122F1204159<<<<<<<6"
)

// edit replaces the character at position i of line n (both from 0).
func edit(text string, n, i int, c byte) string {
	lines := strings.Split(text, "\n")
	b := []byte(lines[n])
	b[i] = c
	lines[n] = string(b)
	return strings.Join(lines, "\n")
}

// withField replaces the field at position i of line n with v, followed
// by its check digit, and fixes the composite check digit.
func withField(text string, n, i int, v string) string {
	lines := strings.Split(text, "\n")
	b := []byte(lines[n])
	copy(b[i:], v)
	b[i+len(v)] = checkDigit(v)
	lines[n] = string(b)
	l := layoutFor(len(lines), len(strings.Join(lines, "")))
	s := []byte(strings.Join(lines, ""))
	s[l.compositeCD] = checkDigit(l.compositeInput(string(s)))
	return formatLines(string(s), l.width)
}

func formatLines(s string, width int) string {
	var lines []string
	for i := 0; i < len(s); i += width {
		lines = append(lines, s[i:i+width])
	}
	return strings.Join(lines, "\n")
}

func TestParseMRZErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		field string
		why   string
	}{
		{"TD3 document number", edit(td3, 1, 9, '7'), "document number", reasonCheckDigit},
		{"TD3 date of birth", edit(td3, 1, 19, '3'), "date of birth", reasonCheckDigit},
		{"TD3 date of expiry", edit(td3, 1, 27, '0'), "date of expiry", reasonCheckDigit},
		{"TD3 optional data", edit(td3, 1, 42, '2'), "optional data", reasonCheckDigit},
		{"TD3 composite", edit(td3, 1, 43, '1'), "composite", reasonCheckDigit},
		{"TD3 filler check digit on data", edit(td3, 1, 42, '<'), "optional data", reasonNotDigit},
		{"TD3 filler document number check digit", edit(td3, 1, 9, '<'), "document number", reasonNotDigit},
		{"TD1 document number", edit(td1, 0, 14, '8'), "document number", reasonCheckDigit},
		{"TD1 date of birth", edit(td1, 1, 6, '3'), "date of birth", reasonCheckDigit},
		{"TD1 date of expiry", edit(td1, 1, 14, '0'), "date of expiry", reasonCheckDigit},
		{"TD1 composite", edit(td1, 1, 29, '7'), "composite", reasonCheckDigit},
		{"TD1 optional data changes composite", edit(td1, 1, 20, 'B'), "composite", reasonCheckDigit},
		{"TD1 long number without check digit", edit(td1, 0, 14, '<'), "document number", reasonLongNumber},
		{"TD1 long number without filler", "I<UTOD23145890<734912345678901" + td1[30:], "document number", reasonLongNumber},
		{"TD2 document number", edit(td2, 1, 9, '8'), "document number", reasonCheckDigit},
		{"TD2 composite", edit(td2, 1, 35, '5'), "composite", reasonCheckDigit},
		{"31 February", withField(td3, 1, 13, "310231"), "date of birth", reasonDate},
		{"29 February 2029", withField(td3, 1, 21, "290229"), "date of expiry", reasonDate},
		{"month 13", withField(td1, 1, 0, "741312"), "date of birth", reasonDate},
		{"day 0", withField(td2, 1, 21, "120400"), "date of expiry", reasonDate},
		{"date with filler", withField(td3, 1, 13, "7408<<"), "date of birth", reasonDate},
		{"sex", edit(td3, 1, 20, 'Q'), "sex", reasonSex},
		{"empty document number", withField(td3, 1, 0, "<<<<<<<<<"), "document number", reasonEmpty},
		{"lowercase", edit(td3, 0, 6, 'r'), "line 1", reasonLowercase},
		{"bad character", edit(td1, 2, 3, '-'), "line 3", reasonCharacter},
		{"space inside a line", edit(td2, 1, 3, ' '), "line 2", reasonCharacter},
		{"short line", td3[:len(td3)-1], "", reasonLayout},
		{"long line", td3 + "<", "", reasonLayout},
		{"one line of TD3", strings.Split(td3, "\n")[0], "", reasonLayout},
		{"three TD3 lines", td3 + "\n" + strings.Split(td3, "\n")[0], "", reasonLayout},
		{"mixed widths", strings.Split(td1, "\n")[0] + "\n" + strings.Split(td2, "\n")[1], "", reasonLayout},
		{"empty", "", "", reasonLayout},
		{"huge", strings.Repeat("<", 5000), "", reasonLayout},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMRZ(tc.text)
			assert.Nil(t, m)
			var e *MRZError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tc.field, string(e.Field))
			assert.Equal(t, tc.why, e.Reason)
			assert.ErrorIs(t, err, ErrMRZ)
		})
	}
}

func TestParseMRZTolerance(t *testing.T) {
	want, err := ParseMRZ(td3)
	require.NoError(t, err)
	lines := strings.Split(td3, "\n")
	for name, text := range map[string]string{
		"CRLF":                  strings.Join(lines, "\r\n") + "\r\n",
		"spaces and blank line": "\n  " + lines[0] + " \n\n\t" + lines[1] + "  \n\n",
		"concatenated":          strings.Join(lines, ""),
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMRZ(text)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}
}

func TestParseMRZFillerCheckDigit(t *testing.T) {
	// Example 3 of 9303-3 Appendix A writes 0 for the check digit of empty
	// optional data; '<' is allowed as well.
	line1 := pad("P<YTOSPECIMEN<<TEST", 44)
	for _, line2 := range []string{"HA672242<6YTO5802254M9601086<<<<<<<<<<<<<<08", "HA672242<6YTO5802254M9601086<<<<<<<<<<<<<<<8"} {
		m, err := ParseMRZ(line1 + "\n" + line2)
		require.NoError(t, err, line2)
		assert.Equal(t, "HA672242", m.DocumentNumber)
	}
}

func TestParseMRZLeapDay(t *testing.T) {
	for _, date := range []string{"000229", "240229", "960229"} {
		_, err := ParseMRZ(withField(td3, 1, 13, date))
		assert.NoError(t, err, date)
	}
}

func TestMRZText(t *testing.T) {
	v := loadMRZVectors(t)
	for _, sp := range v.Specimens {
		lines := sp.Lines
		if sp.LinesCorrected != nil {
			lines = sp.LinesCorrected
		}
		m, err := ParseMRZ(strings.Join(lines, "\n"))
		require.NoError(t, err)
		got, ok := m.text()
		require.True(t, ok)
		assert.Equal(t, strings.Join(lines, ""), got, sp.ID)
	}
	_, ok := (&MRZ{}).text()
	assert.False(t, ok)
	_, ok = (&MRZ{Format: TD3, DocumentNumber: "TOOLONGFORTD3X"}).text()
	assert.False(t, ok)
}

func TestNewAccessKeyErrors(t *testing.T) {
	tests := []struct {
		name, number, birth, expiry, field, why string
	}{
		{"empty number", "", "740812", "120415", "document number", reasonEmpty},
		{"only fillers", "<<<", "740812", "120415", "document number", reasonEmpty},
		{"too long", strings.Repeat("A", 23), "740812", "120415", "document number", reasonNumberLength},
		{"bad character", "L898-902", "740812", "120415", "document number", reasonCharacter},
		{"unicode", "L898ß02", "740812", "120415", "document number", reasonCharacter},
		{"birth", "L898902C", "740832", "120415", "date of birth", reasonDate},
		{"expiry", "L898902C", "740812", "1204", "date of expiry", reasonDate},
		{"leap", "L898902C", "740812", "230229", "date of expiry", reasonDate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := NewAccessKey(tc.number, tc.birth, tc.expiry)
			assert.Equal(t, AccessKey{}, k)
			var e *MRZError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, &MRZError{Field: MRZField(tc.field), Reason: tc.why}, e)
		})
	}
	k, err := NewAccessKey(strings.Repeat("A", 22), "740812", "120415")
	require.NoError(t, err)
	assert.Len(t, k.Information(), 22+1+14)
}

func TestMRZErrorsHoldNoData(t *testing.T) {
	secrets := []string{"L898902C", "ERIKSSON", "ANNA", "740812", "120415", "ZE184226B"}
	texts := []string{edit(td3, 1, 9, '7'), edit(td3, 0, 6, 'r'), edit(td3, 1, 43, '1'), td3[:40]}
	for _, text := range texts {
		_, err := ParseMRZ(text)
		require.Error(t, err)
		for _, s := range secrets {
			assert.NotContains(t, err.Error(), s)
		}
	}
	_, err := NewAccessKey("L898902C", "740832", "120415")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "L898902C")
	assert.NotContains(t, err.Error(), "740832")
}

func TestRedaction(t *testing.T) {
	m, err := ParseMRZ(td3)
	require.NoError(t, err)
	var b strings.Builder
	log := slog.New(slog.NewTextHandler(&b, nil))
	log.Info("read", "mrz", m, "value", *m, "key", m.AccessKey(), "dg1", &DG1{MRZ: m}, "dg1value", DG1{MRZ: m})
	assert.NotContains(t, b.String(), "ERIKSSON")
	assert.NotContains(t, b.String(), "L898902C")
	assert.Equal(t, 5, strings.Count(b.String(), "redacted"))
}

func TestMRZErrorMessage(t *testing.T) {
	assert.Equal(t, "icao: MRZ document number: check digit does not match",
		(&MRZError{Field: "document number", Reason: reasonCheckDigit}).Error())
	assert.Equal(t, "icao: MRZ: "+reasonLayout, (&MRZError{Reason: reasonLayout}).Error())
	assert.True(t, errors.Is(&MRZError{}, ErrMRZ))
	_, err := CheckDigit("ab")
	assert.ErrorIs(t, err, ErrMRZ)
	assert.Equal(t, "TD1", TD1.String())
	assert.Equal(t, "Format(7)", Format(7).String())
}
