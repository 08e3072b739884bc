package vpcd

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/reader"
)

// TestThroughPCSCD serves a card to each vpcd slot of the system pcscd and
// talks to it through PC/SC: slot n is the reader pcsctest.ReaderName(n) on
// port 35963+n, power and reset reach the card, and removal is seen.
func TestThroughPCSCD(t *testing.T) {
	pcsctest.Require(t)
	pcsctest.Lock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := reader.Open()
	require.NoError(t, err)
	defer p.Close()
	for slot := range pcsctest.Slots {
		t.Run(pcsctest.ReaderName(slot), func(t *testing.T) {
			card := &echoCard{}
			ins, err := Insert(ctx, Addr(slot), card, nil)
			require.NoError(t, err)
			defer ins.Remove()
			name, err := p.WaitForCard(ctx, "")
			require.NoError(t, err, "WaitForCard")
			require.Equal(t, pcsctest.ReaderName(slot), name, "WaitForCard")
			select {
			case <-ins.Attached():
			default:
				assert.Fail(t, "card present but not attached")
			}
			c, err := p.Connect(ctx, name)
			require.NoError(t, err)
			wantBytes(t, "ATR", c.ATR(), DefaultATR())
			resp, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x04, 0x0C, 0x03, 0xA0, 0x00, 0x01})
			require.NoError(t, err)
			wantBytes(t, "response", resp, []byte{0xA0, 0x00, 0x01, 0x90, 0x00})
			resets := card.resets.Load()
			require.NoError(t, c.Close()) // SCARD_RESET_CARD
			assert.NotEqual(t, resets, card.resets.Load(), "closing with SCARD_RESET_CARD did not reset the card")
			require.NoError(t, ins.Remove())
			require.NoError(t, p.WaitForRemoval(ctx, name), "WaitForRemoval")
		})
	}
}

// BenchmarkPCSCDRoundTrip measures one short APDU through libpcsclite,
// pcscd, the vpcd driver and this package, with and without TCP_QUICKACK.
func BenchmarkPCSCDRoundTrip(b *testing.B) {
	for _, tc := range []struct {
		name       string
		noQuickAck bool
	}{{"quickack", false}, {"no-quickack", true}} {
		b.Run(tc.name, func(b *testing.B) {
			pcsctest.Require(b)
			pcsctest.Lock(b)
			ctx := context.Background()
			ins, err := Insert(ctx, Addr(0), &echoCard{}, &Config{noQuickAck: tc.noQuickAck})
			require.NoError(b, err)
			defer pcsctest.WaitEmpty(b, 0)
			defer ins.Remove()
			p, err := reader.Open()
			require.NoError(b, err)
			defer p.Close()
			name, err := p.WaitForCard(ctx, pcsctest.ReaderName(0))
			require.NoError(b, err)
			c, err := p.Connect(ctx, name)
			require.NoError(b, err)
			defer c.Close()
			capdu := []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1E} // SELECT EF.COM
			for b.Loop() {
				_, err := c.Transmit(ctx, capdu)
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "apdus/s")
		})
	}
}
