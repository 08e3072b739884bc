package bac_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/apdutest"
	"github.com/nfcbridge/nfcbridge/vchip"
)

// TestTranscriptRead replays a golden transcript of the virtual passport
// (testdata/transcripts/bac-read.apdu): SELECT of the application, BAC and
// the read of EF.COM and DG1 under secure messaging. The terminal must send
// exactly the recorded commands, so a change to what goes on the wire shows
// as a diff of that file. Record it again from the virtual chip with
//
//	go test ./bac -run TestTranscriptRead -update
//
// (fixed random sources on both sides make the session repeatable).
func TestTranscriptRead(t *testing.T) {
	ds, err := vchip.LoadDir("../testdata/passports/specimen-20k")
	require.NoError(t, err)
	tr := apdutest.Transcript(t, "bac-read", func() icao.Transport {
		chip, err := vchip.New(ds, &vchip.Config{Rand: bytes.NewReader(bytes.Repeat([]byte{0xC1}, 64))})
		require.NoError(t, err)
		return chip
	})
	m, err := icao.ParseMRZ(vchip.SpecimenMRZ)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, icao.SelectApplication(ctx, tr))
	info := m.AccessKey().Information()
	s, err := bac.Open(ctx, tr, info, &bac.Config{Rand: bytes.NewReader(bytes.Repeat([]byte{0x7E}, 64))})
	require.NoError(t, err)
	fr := icao.NewFileReader(s, nil)
	for _, f := range []icao.EF{icao.EFCOM, icao.EFDG1} {
		got, err := fr.Read(ctx, f, nil)
		require.NoError(t, err, f.String())
		assert.Equal(t, ds.Files[f.String()], got, f.String())
	}
}
