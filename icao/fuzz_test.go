package icao

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// addTestdata seeds a fuzz target with the named specimen files.
func addTestdata(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(b)
	}
}

// sameMRZ compares a formatted MRZ with the parsed one; a TD3's optional
// data check digit may be '0' or '<' when the field is all fillers.
func sameMRZ(got, want string, l *layout) bool {
	if len(got) != len(want) {
		return false
	}
	if l.opt1CD >= 0 && strings.Trim(l.opt1.of(want), "<") == "" && strings.ContainsRune("0<", rune(want[l.opt1CD])) {
		want = want[:l.opt1CD] + got[l.opt1CD:l.opt1CD+1] + want[l.opt1CD+1:]
	}
	return got == want
}

func FuzzParseMRZ(f *testing.F) {
	for _, s := range []string{td1, td2, td3, strings.ReplaceAll(td3, "\n", ""), "I<UTOD23145890<7349<<<<<<<<<<<\n3407127M9507122UTO<<<<<<<<<<<2\nSTEVENSON<<PETER<JOHN<<<<<<<<<",
		"I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<\nD23145890<UTO3407127M95071227349<<<8", edit(td3, 1, 9, '7'), "\r\n" + td2 + "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := ParseMRZ(text)
		if err != nil {
			require.Nil(t, m, "error %v with a result", err)
			var e *MRZError
			require.ErrorAs(t, err, &e)
			return
		}
		s, l, err := normalizeMRZ(text)
		require.NoError(t, err)
		got, ok := m.text()
		require.True(t, ok, "an accepted MRZ does not format")
		require.True(t, sameMRZ(got, s, l), "round trip:\n%s\n%s", got, s)
		k, err := NewAccessKey(m.DocumentNumber, m.DateOfBirth, m.DateOfExpiry)
		require.NoError(t, err, "access key of an accepted MRZ")
		require.Equal(t, m.AccessKey().Information(), k.Information(), "access key of an accepted MRZ")
	})
}

func FuzzParseCOM(f *testing.F) {
	var v struct {
		EFCOM string `json:"ef_com_hex,omitempty"`
	}
	testvectors.Load(f, "sm_3des.json", &v)
	b, _ := hex.DecodeString(v.EFCOM)
	f.Add(b)
	addTestdata(f, "com.bin")
	f.Add(EncodeCOM("", "", []tlv.Tag{0x5F1F, 0x9F8101}))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCOM(b)
		if err != nil {
			require.Nil(t, c, "error %v with a result", err)
			require.ErrorIs(t, err, ErrMalformedLDS)
			return
		}
		require.Equal(t, b, c.Raw, "Raw is not the input")
		again, err := ParseCOM(EncodeCOM(c.LDSVersion, c.UnicodeVersion, c.Tags))
		require.NoError(t, err, "round trip")
		require.Equal(t, c.LDSVersion, again.LDSVersion, "round trip")
		require.Equal(t, c.UnicodeVersion, again.UnicodeVersion, "round trip")
		require.Len(t, again.Tags, len(c.Tags), "round trip")
		require.Len(t, again.DataGroups(), len(c.DataGroups()), "round trip")
	})
}

func FuzzParseDG1(f *testing.F) {
	addTestdata(f, "dg1_td3.bin", "dg1_td1.bin")
	f.Add(EncodeDG1(td2))
	f.Add(EncodeDG1(edit(td1, 1, 6, '0')))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG1(b)
		if err != nil {
			require.Nil(t, d, "error %v with a result", err)
			require.ErrorIs(t, err, ErrMalformedLDS)
			return
		}
		require.Equal(t, len(d.Invalid) == 0, d.Err() == nil, "Err and Invalid disagree")
		require.Equal(t, b, d.Raw, "Raw is not the input")
		if len(d.Invalid) > 0 {
			return
		}
		o, _ := tlv.Decode(d.Raw)
		mrz, _ := tlv.Decode(o.Value)
		got, ok := d.MRZ.text()
		require.True(t, ok, "a valid MRZ does not format")
		require.True(t, sameMRZ(got, string(mrz.Value), layoutFor(1, len(mrz.Value))), "round trip:\n%s\n%s", got, mrz.Value)
	})
}

func FuzzParseDG2(f *testing.F) {
	addTestdata(f, "dg2_19794.bin", "dg2_39794.bin")
	for _, faces := range [][]FaceImage{
		{{ImageJPEG2000, 3, 4, fakeJ2K()}, {ImageJPEG, 1, 2, []byte{0xFF, 0xD8, 0xFF, 0xE0}}},
		{{ImageJPEG2000, 0, 0, []byte("jp2")}},
	} {
		b, _ := EncodeDG2(faces)
		f.Add(b)
		b, _ = EncodeDG2ISO39794(faces)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG2(b)
		if err != nil {
			require.Nil(t, d, "error %v with a result", err)
			require.ErrorIs(t, err, ErrMalformedLDS)
			return
		}
		require.NotEmpty(t, d.Faces)
		require.LessOrEqual(t, len(d.Faces), maxFaces)
		require.Equal(t, b, d.Raw, "Raw is not the input")
		var faces []FaceImage
		for _, face := range d.Faces {
			if face.Format == ImageJPEG || face.Format == ImageJPEG2000 {
				faces = append(faces, face)
			}
		}
		if len(faces) == 0 {
			return
		}
		for _, encode := range []func([]FaceImage) ([]byte, error){EncodeDG2, EncodeDG2ISO39794} {
			enc, err := encode(faces)
			require.NoError(t, err)
			again, err := ParseDG2(enc)
			require.NoError(t, err, "round trip")
			require.Len(t, again.Faces, len(faces), "round trip")
			for i := range faces {
				g, w := again.Faces[i], faces[i]
				require.Equal(t, w.Format, g.Format, "round trip of face %d", i)
				require.Equal(t, w.Width, g.Width, "round trip of face %d", i)
				require.Equal(t, w.Height, g.Height, "round trip of face %d", i)
				// bytes.Equal: empty image data may come back nil or empty.
				require.True(t, bytes.Equal(g.Data, w.Data), "round trip of face %d: %x, want %x", i, g.Data, w.Data)
			}
		}
	})
}

func FuzzParseSOD(f *testing.F) {
	addTestdata(f, "sod_p256.bin", "sod_p256_ber.bin")
	f.Add(goodParts(f).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSOD(b)
		if err != nil {
			require.Nil(t, s, "error %v with a result", err)
			require.True(t, errors.Is(err, ErrMalformedLDS) || errors.Is(err, ErrUnsupportedAlgorithm),
				"error %v is neither ErrMalformedLDS nor ErrUnsupportedAlgorithm", err)
			return
		}
		require.Equal(t, b, s.Raw, "Raw is not the input")
		require.LessOrEqual(t, len(s.Hashes), 16, "too many hashes")
		for dg, h := range s.Hashes {
			require.True(t, dg >= 1 && dg <= 16, "hash of DG%d", dg)
			require.Len(t, h, s.HashAlgorithm.Size(), "DG%d hash", dg)
			if err := s.Check(dg, h); !errors.Is(err, ErrHashMismatch) {
				require.NoError(t, err, "Check(DG%d)", dg)
			}
		}
	})
}
