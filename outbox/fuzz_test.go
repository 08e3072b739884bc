package outbox

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/nfcbridge/nfcbridge/upload"
)

const fuzzID = "00112233445566778899aabbccddeeff"

var fuzzKey = bytes.Repeat([]byte{0x42}, KeySize)

func fuzzItem() Item {
	return Item{ReadID: "read-1", SessionID: "3c6f0a52-8d1e-4f7b-9a20-5b1c3e7d9f01",
		CreatedAt: time.Unix(1_772_000_000, 5),
		NFC: upload.NFC{COM: []byte{0x60, 0x01, 0x00}, SOD: []byte{0x77, 0x00}, DG1: []byte{0x61, 0x02, 'a', 'b'},
			DG2: []byte{0x75, 0x00}}, Summary: []byte(`{"apdus":12}`)}
}

// FuzzDecode feeds random file bytes to everything that reads a file of the
// outbox: no panic, and nil results on error.
func FuzzDecode(f *testing.F) {
	aead, err := newAEAD(fuzzKey)
	if err != nil {
		f.Fatal(err)
	}
	plain, err := encodeItem(fuzzItem())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []struct {
		k     kind
		plain []byte
	}{
		{kindEntry, plain},
		{kindState, encodeState(state{attempts: 3, next: time.Unix(1_772_000_000, 0)})},
		{kindDone, encodeDone(done{readID: "read-1", result: []byte(`{"id":"m"}`)})},
		{kindState, encodeState(state{attempts: 1, next: time.Unix(1_772_000_000, 0), sending: true})},
		{kindRecord, mustRecord(f, "read-1", []byte(`{"state":"done"}`))},
	} {
		sealed, err := seal(aead, rand.Reader, s.k, fuzzID, s.plain)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed)
	}
	f.Add([]byte("NBOX\x01E"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range []kind{kindEntry, kindState, kindDone, kindRecord} {
			plain, err := open(aead, k, fuzzID, b)
			if err != nil {
				if plain != nil {
					t.Fatal("plaintext with an error")
				}
				continue
			}
			decodeAll(t, plain)
		}
		decodeAll(t, b) // the plaintext decoders on raw bytes too
	})
}

func decodeAll(t *testing.T, b []byte) {
	if it, err := decodeItem(b); err != nil && (it.ReadID != "" || it.NFC.DG1 != nil) {
		t.Fatal("item with an error")
	}
	if st, err := decodeState(b); err != nil && st != (state{}) {
		t.Fatal("state with an error")
	}
	if d, err := decodeDone(b); err != nil && (d.readID != "" || d.result != nil) {
		t.Fatal("done with an error")
	}
	if r, err := decodeRecord(b); err != nil && (r.ReadID != "" || r.Data != nil) {
		t.Fatal("record with an error")
	}
}

func mustRecord(f *testing.F, readID string, data []byte) []byte {
	b, err := encodeRecord(readID, data)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzDecodeRecord checks that the record decoder is strict: what it
// accepts encodes back to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add(mustRecord(f, "read-1", []byte(`{"state":"done"}`)))
	f.Add([]byte{0, 0, 0, 1, 'r', 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		again, err := encodeRecord(r.ReadID, r.Data)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("round trip changed the bytes (%v):\n%x\n%x", err, b, again)
		}
	})
}

// FuzzDecodeItem checks that the entry plaintext decoder is strict: what it
// accepts encodes back to the same bytes.
func FuzzDecodeItem(f *testing.F) {
	plain, err := encodeItem(fuzzItem())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain)
	f.Add(make([]byte, 8+6*4))
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeItem(b)
		if err != nil {
			return
		}
		again, err := encodeItem(it)
		if err != nil {
			t.Fatalf("decoded item does not encode: %v", err)
		}
		// An entry written before summaries existed gains an empty one.
		if !bytes.Equal(again, b) && !bytes.Equal(again, append(b, 0, 0, 0, 0)) {
			t.Fatalf("round trip changed the bytes:\n%x\n%x", b, again)
		}
	})
}

func TestSealBindsKindAndID(t *testing.T) {
	aead, err := newAEAD(fuzzKey)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := seal(aead, rand.Reader, kindState, fuzzID, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(aead, kindState, fuzzID, sealed); err != nil {
		t.Fatalf("open: %v", err)
	}
	if _, err := open(aead, kindEntry, fuzzID, sealed); err != ErrCorrupt {
		t.Fatalf("open as another kind: %v, want ErrCorrupt", err)
	}
	if _, err := open(aead, kindState, "ffeeddccbbaa99887766554433221100", sealed); err != ErrCorrupt {
		t.Fatalf("open under another ID: %v, want ErrCorrupt", err)
	}
}

func TestItemRoundTrip(t *testing.T) {
	it := fuzzItem()
	b, err := encodeItem(it)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeItem(b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(it.CreatedAt) || got.ReadID != it.ReadID || got.SessionID != it.SessionID ||
		!bytes.Equal(got.NFC.DG1, it.NFC.DG1) || !bytes.Equal(got.NFC.COM, it.NFC.COM) || !bytes.Equal(got.Summary, it.Summary) {
		t.Fatalf("round trip: got %v", got)
	}
	legacy := len(b) - 4 - len(it.Summary) // an entry of before summaries
	if old, err := decodeItem(b[:legacy]); err != nil || old.Summary != nil || !bytes.Equal(old.NFC.DG2, it.NFC.DG2) {
		t.Fatalf("entry without a summary: %v", err)
	}
	for n := range b {
		if n == legacy {
			continue
		}
		if _, err := decodeItem(b[:n]); err != ErrCorrupt {
			t.Fatalf("truncated to %d: %v, want ErrCorrupt", n, err)
		}
	}
}
