package icao

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
	"github.com/nfcbridge/nfcbridge/internal/testvectors"
)

// addTestdata seeds a fuzz target with the named specimen files.
func addTestdata(f *testing.F, names ...string) {
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
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
			var e *MRZError
			if m != nil || !errors.As(err, &e) {
				t.Fatalf("error %v with result %v or not an MRZError", err, m != nil)
			}
			return
		}
		s, l, err := normalizeMRZ(text)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := m.text()
		if !ok || !sameMRZ(got, s, l) {
			t.Fatalf("round trip:\n%s\n%s", got, s)
		}
		k, err := NewAccessKey(m.DocumentNumber, m.DateOfBirth, m.DateOfExpiry)
		if err != nil || !bytes.Equal(k.Information(), m.AccessKey().Information()) {
			t.Fatalf("access key of an accepted MRZ: %v", err)
		}
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
			if c != nil || !errors.Is(err, ErrMalformedLDS) {
				t.Fatalf("error %v with result", err)
			}
			return
		}
		if !bytes.Equal(c.Raw, b) {
			t.Fatal("Raw is not the input")
		}
		again, err := ParseCOM(EncodeCOM(c.LDSVersion, c.UnicodeVersion, c.Tags))
		if err != nil || again.LDSVersion != c.LDSVersion || again.UnicodeVersion != c.UnicodeVersion ||
			len(again.Tags) != len(c.Tags) || len(again.DataGroups()) != len(c.DataGroups()) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParseDG1(f *testing.F) {
	addTestdata(f, "dg1_td3.bin", "dg1_td1.bin")
	f.Add(EncodeDG1(td2))
	f.Add(EncodeDG1(edit(td1, 1, 6, '0')))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDG1(b)
		if err != nil {
			if d != nil || !errors.Is(err, ErrMalformedLDS) {
				t.Fatalf("error %v with result", err)
			}
			return
		}
		if (d.Err() == nil) != (len(d.Invalid) == 0) || !bytes.Equal(d.Raw, b) {
			t.Fatal("Err and Invalid disagree, or Raw is not the input")
		}
		if len(d.Invalid) > 0 {
			return
		}
		o, _ := tlv.Decode(d.Raw)
		mrz, _ := tlv.Decode(o.Value)
		got, ok := d.MRZ.text()
		if !ok || !sameMRZ(got, string(mrz.Value), layoutFor(1, len(mrz.Value))) {
			t.Fatalf("round trip:\n%s\n%s", got, mrz.Value)
		}
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
			if d != nil || !errors.Is(err, ErrMalformedLDS) {
				t.Fatalf("error %v with result", err)
			}
			return
		}
		if len(d.Faces) < 1 || len(d.Faces) > maxFaces || !bytes.Equal(d.Raw, b) {
			t.Fatalf("%d faces, or Raw is not the input", len(d.Faces))
		}
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
			if err != nil {
				t.Fatal(err)
			}
			again, err := ParseDG2(enc)
			if err != nil || len(again.Faces) != len(faces) {
				t.Fatalf("round trip: %v", err)
			}
			for i := range faces {
				g, w := again.Faces[i], faces[i]
				if g.Format != w.Format || g.Width != w.Width || g.Height != w.Height || !bytes.Equal(g.Data, w.Data) {
					t.Fatalf("round trip of face %d", i)
				}
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
			if s != nil || !errors.Is(err, ErrMalformedLDS) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("error %v with result", err)
			}
			return
		}
		if !bytes.Equal(s.Raw, b) || len(s.Hashes) > 16 {
			t.Fatal("Raw is not the input, or too many hashes")
		}
		for dg, h := range s.Hashes {
			if dg < 1 || dg > 16 || len(h) != s.HashAlgorithm.Size() {
				t.Fatalf("DG%d hash of %d bytes", dg, len(h))
			}
			if err := s.Check(dg, h); !errors.Is(err, ErrHashMismatch) && err != nil {
				t.Fatal(err)
			}
		}
	})
}
