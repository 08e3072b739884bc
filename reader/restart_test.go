package reader_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// TestPCSCDRestart stops and starts a private pcscd (never the system one):
// a connected Card reports the service gone, the PCSC re-establishes its
// context on the next call, and reading works again.
func TestPCSCDRestart(t *testing.T) {
	d := pcsctest.Isolate(t)
	if d == nil {
		return // ran in a child process
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := reader.Open()
	require.NoError(t, err, "Open")
	defer p.Close()
	name := pcsctest.ReaderName(0)
	selectMF := []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00}

	c, ins := readOnce(ctx, t, p, d.Addr(0), name, selectMF)
	d.Stop(t)

	_, err = c.Transmit(ctx, selectMF)
	if assert.True(t, errors.Is(err, reader.ErrNoService) || errors.Is(err, reader.ErrReaderGone),
		"Transmit with pcscd stopped: %v, want ErrNoService or ErrReaderGone", err) {
		t.Logf("Transmit with pcscd stopped: %v", err)
	}
	assert.NoError(t, c.Close(), "Close with pcscd stopped")
	select {
	case <-ins.Done():
		assert.ErrorIs(t, ins.Err(), vpcd.ErrReaderClosed, "insertion")
	case <-time.After(5 * time.Second):
		assert.Fail(t, "vpcd connection still open after pcscd stopped")
	}
	for _, f := range []struct {
		name string
		call func() error
	}{
		{"Readers", func() error { _, err := p.Readers(ctx); return err }},
		{"WaitForCard", func() error { _, err := p.WaitForCard(ctx, ""); return err }},
		{"Connect", func() error { _, err := p.Connect(ctx, name); return err }},
		{"Open", func() error { _, err := reader.Open(); return err }},
	} {
		assert.ErrorIs(t, f.call(), reader.ErrNoService, "%s with pcscd stopped", f.name)
	}

	d.Start(t)
	infos, err := p.Readers(ctx)
	require.NoError(t, err, "Readers after restart")
	require.Len(t, infos, pcsctest.Slots, "Readers after restart")
	c, _ = readOnce(ctx, t, p, d.Addr(0), name, selectMF)
	c.Close()
}

// readOnce inserts a card into the private daemon's slot, connects and
// exchanges one APDU.
func readOnce(ctx context.Context, t *testing.T, p *reader.PCSC, addr, name string, capdu []byte) (*reader.Card, *vpcd.Insertion) {
	t.Helper()
	ins := insert(ctx, t, addr, &testCard{})
	_, err := p.WaitForCard(ctx, name)
	require.NoError(t, err, "WaitForCard")
	c, err := p.Connect(ctx, name)
	require.NoError(t, err, "Connect")
	_, err = c.Transmit(ctx, capdu)
	require.NoError(t, err, "Transmit")
	return c, ins
}
