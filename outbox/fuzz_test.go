package outbox

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
	require.NoError(f, err)
	plain, err := encodeItem(fuzzItem())
	require.NoError(f, err)
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
		require.NoError(f, err)
		f.Add(sealed)
	}
	f.Add([]byte("NBOX\x01E"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, k := range []kind{kindEntry, kindState, kindDone, kindRecord} {
			plain, err := open(aead, k, fuzzID, b)
			if err != nil {
				require.Nil(t, plain, "plaintext with an error")
				continue
			}
			decodeAll(t, plain)
		}
		decodeAll(t, b) // the plaintext decoders on raw bytes too
	})
}

func decodeAll(t *testing.T, b []byte) {
	if it, err := decodeItem(b); err != nil {
		require.Empty(t, it.ReadID, "item with an error")
		require.Nil(t, it.NFC.DG1, "item with an error")
	}
	if st, err := decodeState(b); err != nil {
		require.Zero(t, st, "state with an error")
	}
	if d, err := decodeDone(b); err != nil {
		require.Empty(t, d.readID, "done with an error")
		require.Nil(t, d.result, "done with an error")
	}
	if r, err := decodeRecord(b); err != nil {
		require.Empty(t, r.ReadID, "record with an error")
		require.Nil(t, r.Data, "record with an error")
	}
}

func mustRecord(f *testing.F, readID string, data []byte) []byte {
	b, err := encodeRecord(readID, data)
	require.NoError(f, err)
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
		require.NoError(t, err, "round trip")
		require.Equal(t, b, again, "round trip changed the bytes")
	})
}

// FuzzDecodeItem checks that the entry plaintext decoder is strict: what it
// accepts encodes back to the same bytes.
func FuzzDecodeItem(f *testing.F) {
	plain, err := encodeItem(fuzzItem())
	require.NoError(f, err)
	f.Add(plain)
	f.Add(make([]byte, 8+6*4))
	f.Fuzz(func(t *testing.T, b []byte) {
		it, err := decodeItem(b)
		if err != nil {
			return
		}
		again, err := encodeItem(it)
		require.NoError(t, err, "decoded item does not encode")
		// An entry written before summaries existed gains an empty one.
		want := b
		if len(again) == len(b)+4 {
			want = append(b, 0, 0, 0, 0)
		}
		require.Equal(t, want, again, "round trip changed the bytes")
	})
}

func TestSealBindsKindAndID(t *testing.T) {
	aead, err := newAEAD(fuzzKey)
	require.NoError(t, err)
	sealed, err := seal(aead, rand.Reader, kindState, fuzzID, []byte("x"))
	require.NoError(t, err)
	_, err = open(aead, kindState, fuzzID, sealed)
	require.NoError(t, err, "open")
	_, err = open(aead, kindEntry, fuzzID, sealed)
	require.ErrorIs(t, err, ErrCorrupt, "open as another kind")
	_, err = open(aead, kindState, "ffeeddccbbaa99887766554433221100", sealed)
	require.ErrorIs(t, err, ErrCorrupt, "open under another ID")
}

func TestItemRoundTrip(t *testing.T) {
	it := fuzzItem()
	b, err := encodeItem(it)
	require.NoError(t, err)
	got, err := decodeItem(b)
	require.NoError(t, err)
	require.True(t, got.CreatedAt.Equal(it.CreatedAt), "round trip: CreatedAt %v, want %v", got.CreatedAt, it.CreatedAt)
	require.Equal(t, it.ReadID, got.ReadID, "round trip")
	require.Equal(t, it.SessionID, got.SessionID, "round trip")
	require.Equal(t, it.NFC.DG1, got.NFC.DG1, "round trip")
	require.Equal(t, it.NFC.COM, got.NFC.COM, "round trip")
	require.Equal(t, it.Summary, got.Summary, "round trip")
	legacy := len(b) - 4 - len(it.Summary) // an entry of before summaries
	old, err := decodeItem(b[:legacy])
	require.NoError(t, err, "entry without a summary")
	require.Nil(t, old.Summary, "entry without a summary")
	require.Equal(t, it.NFC.DG2, old.NFC.DG2, "entry without a summary")
	for n := range b {
		if n == legacy {
			continue
		}
		_, err := decodeItem(b[:n])
		require.ErrorIs(t, err, ErrCorrupt, "truncated to %d", n)
	}
}
