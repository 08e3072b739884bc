package reader_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer p.Close()
	name := pcsctest.ReaderName(0)
	selectMF := []byte{0x00, 0xA4, 0x00, 0x0C, 0x02, 0x3F, 0x00}

	c, ins := readOnce(ctx, t, p, d.Addr(0), name, selectMF)
	d.Stop(t)

	if _, err := c.Transmit(ctx, selectMF); !errors.Is(err, reader.ErrNoService) && !errors.Is(err, reader.ErrReaderGone) {
		t.Errorf("Transmit with pcscd stopped: %v, want ErrNoService or ErrReaderGone", err)
	} else {
		t.Logf("Transmit with pcscd stopped: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close with pcscd stopped: %v", err)
	}
	select {
	case <-ins.Done():
		if !errors.Is(ins.Err(), vpcd.ErrReaderClosed) {
			t.Errorf("insertion: %v, want ErrReaderClosed", ins.Err())
		}
	case <-time.After(5 * time.Second):
		t.Error("vpcd connection still open after pcscd stopped")
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
		if err := f.call(); !errors.Is(err, reader.ErrNoService) {
			t.Errorf("%s with pcscd stopped: %v, want ErrNoService", f.name, err)
		}
	}

	d.Start(t)
	infos, err := p.Readers(ctx)
	if err != nil || len(infos) != pcsctest.Slots {
		t.Fatalf("Readers after restart = %v, %v", infos, err)
	}
	c, _ = readOnce(ctx, t, p, d.Addr(0), name, selectMF)
	c.Close()
}

// readOnce inserts a card into the private daemon's slot, connects and
// exchanges one APDU.
func readOnce(ctx context.Context, t *testing.T, p *reader.PCSC, addr, name string, capdu []byte) (*reader.Card, *vpcd.Insertion) {
	t.Helper()
	ins := insert(ctx, t, addr, &testCard{})
	if _, err := p.WaitForCard(ctx, name); err != nil {
		t.Fatalf("WaitForCard: %v", err)
	}
	c, err := p.Connect(ctx, name)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := c.Transmit(ctx, capdu); err != nil {
		t.Fatalf("Transmit: %v", err)
	}
	return c, ins
}
