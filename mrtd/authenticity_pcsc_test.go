package mrtd_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// TestAuthenticityPCSC reads a genuine and a cloned chip through
// libpcsclite, pcscd and vpcd: the genuine one passes both checks, the
// clone fails both and its files still come back.
func TestAuthenticityPCSC(t *testing.T) {
	pcsctest.Require(t)
	pcsctest.Lock(t)
	ds := authSpecimen(t, &vchip.ChipAuthSpec{ParameterID: 13, Ciphers: []chipauth.Cipher{chipauth.AES128}}, &vchip.ActiveAuthSpec{RSABits: 2048}, "")
	for _, tc := range []struct {
		name string
		chip vchip.Config
		want mrtd.Outcome
	}{
		{name: "genuine", want: mrtd.Passed},
		{name: "cloned", chip: vchip.Config{Cloned: true}, want: mrtd.Failed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := insertPCSC(t, newChip(t, ds, tc.chip))
			ctx := context.Background()
			card, err := p.Connect(ctx, pcsctest.ReaderName(0))
			require.NoError(t, err)
			defer card.Close()
			doc, err := mrtd.Read(ctx, card, specimenKey(t), nil)
			require.NoError(t, err)
			checkFiles(t, doc, ds)
			a := doc.Authenticity
			assert.Equal(t, tc.want, a.Chip.Outcome, "chip (%s)", a.Chip.Reason)
			assert.Equal(t, tc.want, a.Active.Outcome, "active (%s)", a.Active.Reason)
		})
	}
}

// insertPCSC serves chip in vpcd slot 0 until the test ends and returns a
// PC/SC connection that sees it, closed at the end too.
func insertPCSC(t testing.TB, chip *vchip.Passport) *reader.PCSC {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- vchip.Serve(ctx, vpcd.Addr(0), chip, nil) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done, "serving the chip")
		pcsctest.WaitEmpty(t, 0)
	})
	pcsctest.WaitPresent(t, 0)
	p, err := reader.Open()
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}
