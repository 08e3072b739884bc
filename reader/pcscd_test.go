package reader_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfcbridge/nfcbridge/internal/pcsctest"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// testCard is a tiny card: SELECT answers 9000, READ BINARY answers Ne zero
// bytes (short or extended Le), anything else echoes its data field.
type testCard struct{ resets atomic.Int32 }

func (c *testCard) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	ok := []byte{0x90, 0x00}
	switch {
	case len(capdu) < 4:
		return []byte{0x67, 0x00}, nil
	case capdu[1] == 0xA4:
		return ok, nil
	case capdu[1] == 0xB0 && len(capdu) == 5:
		return append(make([]byte, ne(int(capdu[4]), 256)), ok...), nil
	case capdu[1] == 0xB0 && len(capdu) == 7:
		return append(make([]byte, ne(int(capdu[5])<<8|int(capdu[6]), 65536)), ok...), nil
	case len(capdu) > 7 && capdu[4] == 0:
		return append(append([]byte(nil), capdu[7:]...), ok...), nil
	case len(capdu) > 5:
		return append(append([]byte(nil), capdu[5:5+int(capdu[4])]...), ok...), nil
	}
	return ok, nil
}

func ne(le, zero int) int {
	if le == 0 {
		return zero
	}
	return le
}

func (c *testCard) Reset() { c.resets.Add(1) }

// stack requires the real PC/SC stack, takes the readers' lock and opens a
// PCSC.
func stack(t *testing.T) (context.Context, *reader.PCSC) {
	t.Helper()
	pcsctest.Require(t)
	pcsctest.Lock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	p, err := reader.Open()
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return ctx, p
}

// insert puts card into vpcd slot addr and removes it when the test ends.
func insert(ctx context.Context, t *testing.T, addr string, card vpcd.Card) *vpcd.Insertion {
	t.Helper()
	ins, err := vpcd.Insert(ctx, addr, card, nil)
	if err != nil {
		t.Fatalf("Insert: %v", err)
	}
	t.Cleanup(func() { ins.Remove() })
	return ins
}

// connect inserts a testCard into slot 0 and connects to it.
func connect(ctx context.Context, t *testing.T, p *reader.PCSC) (*testCard, *vpcd.Insertion, *reader.Card) {
	t.Helper()
	card := &testCard{}
	ins := insert(ctx, t, vpcd.Addr(0), card)
	name, err := p.WaitForCard(ctx, pcsctest.ReaderName(0))
	if err != nil {
		t.Fatalf("WaitForCard: %v", err)
	}
	c, err := p.Connect(ctx, name)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return card, ins, c
}

// info returns the Info of reader name.
func info(ctx context.Context, t *testing.T, p *reader.PCSC, name string) reader.Info {
	t.Helper()
	infos, err := p.Readers(ctx)
	if err != nil {
		t.Fatalf("Readers: %v", err)
	}
	for _, in := range infos {
		if in.Name == name {
			return in
		}
	}
	t.Fatalf("reader %q not in %v", name, infos)
	return reader.Info{}
}

func TestReaders(t *testing.T) {
	ctx, p := stack(t)
	name := pcsctest.ReaderName(0)
	for slot := range pcsctest.Slots {
		if in := info(ctx, t, p, pcsctest.ReaderName(slot)); in.CardPresent || in.ATR != nil {
			t.Errorf("before insertion: %+v", in)
		}
	}
	ins := insert(ctx, t, vpcd.Addr(0), &testCard{})
	if _, err := p.WaitForCard(ctx, name); err != nil {
		t.Fatal(err)
	}
	if in := info(ctx, t, p, name); !in.CardPresent || !bytes.Equal(in.ATR, vpcd.DefaultATR()) || in.Exclusive {
		t.Errorf("after insertion: %+v", in)
	}
	if in := info(ctx, t, p, pcsctest.ReaderName(1)); in.CardPresent {
		t.Errorf("other slot after insertion: %+v", in)
	}
	c, err := p.Connect(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if in := info(ctx, t, p, name); !in.Exclusive {
		t.Errorf("while connected: %+v, want Exclusive", in)
	}
	c.Close()
	ins.Remove()
	if err := p.WaitForRemoval(ctx, name); err != nil {
		t.Fatal(err)
	}
	if in := info(ctx, t, p, name); in.CardPresent {
		t.Errorf("after removal: %+v", in)
	}
}

func TestWaitForCard(t *testing.T) {
	ctx, p := stack(t)

	outer := t
	t.Run("inserted later", func(t *testing.T) {
		inserted := make(chan error, 1)
		time.AfterFunc(300*time.Millisecond, func() {
			ins, err := vpcd.Insert(ctx, vpcd.Addr(1), &testCard{}, nil)
			if err == nil {
				outer.Cleanup(func() { ins.Remove() }) // the next subtests use the card
			}
			inserted <- err
		})
		start := time.Now()
		got, err := p.WaitForCard(ctx, pcsctest.ReaderName(1))
		if ierr := <-inserted; ierr != nil {
			t.Fatalf("Insert: %v", ierr)
		}
		if err != nil || got != pcsctest.ReaderName(1) {
			t.Fatalf("WaitForCard = %q, %v", got, err)
		}
		t.Logf("card seen %v after the wait began (inserted after 300 ms; pcscd polls vpcd every 400 ms)", time.Since(start).Round(time.Millisecond))
	})
	t.Run("any reader", func(t *testing.T) {
		// The card of the previous subtest is still in slot 1.
		got, err := p.WaitForCard(ctx, "")
		if err != nil || got != pcsctest.ReaderName(1) {
			t.Fatalf("WaitForCard(\"\") = %q, %v; want the reader holding the card", got, err)
		}
	})
	t.Run("held exclusively", func(t *testing.T) {
		c, err := p.Connect(ctx, pcsctest.ReaderName(1))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// The card counts as present; Connect reports the reader busy.
		if got, err := p.WaitForCard(ctx, ""); err != nil || got != pcsctest.ReaderName(1) {
			t.Fatalf("WaitForCard = %q, %v", got, err)
		}
		if _, err := p.Connect(ctx, pcsctest.ReaderName(1)); !errors.Is(err, reader.ErrReaderBusy) {
			t.Fatalf("Connect = %v, want ErrReaderBusy", err)
		}
	})
}

func TestWaitForCardEnds(t *testing.T) {
	ctx, p := stack(t)
	t.Run("canceled", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			after time.Duration // cancel after; < 0: before the call
		}{{"before", -1}, {"while blocked", 200 * time.Millisecond}} {
			t.Run(tc.name, func(t *testing.T) {
				cctx, cancel := context.WithCancel(ctx)
				if tc.after < 0 {
					cancel()
				} else {
					time.AfterFunc(tc.after, cancel)
				}
				start := time.Now()
				_, err := p.WaitForCard(cctx, pcsctest.ReaderName(0))
				late := time.Since(start) - max(tc.after, 0)
				if !errors.Is(err, context.Canceled) || !errors.Is(err, reader.ErrCanceled) {
					t.Fatalf("err = %v, want context.Canceled and ErrCanceled", err)
				}
				t.Logf("returned %v after the cancel", late.Round(time.Microsecond))
				if late > time.Second {
					t.Errorf("returned %v after the cancel", late)
				}
			})
		}
	})
	t.Run("unknown reader", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := p.WaitForCard(wctx, "No Such Reader 00 00")
		if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, reader.ErrReaderGone) {
			t.Fatalf("err = %v, want DeadlineExceeded and ErrReaderGone", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		q, err := reader.Open()
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(200*time.Millisecond, func() { q.Close() })
		if _, err := q.WaitForCard(ctx, pcsctest.ReaderName(0)); !errors.Is(err, reader.ErrClosed) {
			t.Fatalf("err = %v, want ErrClosed", err)
		}
	})
}

func TestTransmit(t *testing.T) {
	ctx, p := stack(t)
	_, _, c := connect(ctx, t, p)
	if c.Reader() != pcsctest.ReaderName(0) || !bytes.Equal(c.ATR(), vpcd.DefaultATR()) {
		t.Errorf("Reader, ATR = %q, % X", c.Reader(), c.ATR())
	}
	if n, ok := c.MaxAPDU(); ok {
		t.Errorf("MaxAPDU = %d, true; vpcd does not report one", n)
	}
	data := bytes.Repeat([]byte{0x5A}, 0xFFF8) // Lc 65528: 65535-byte command, the most a vpcd frame holds
	tests := []struct {
		name    string
		capdu   []byte
		wantLen int // response length including SW
	}{
		{name: "SELECT", capdu: []byte{0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1E}, wantLen: 2},
		{name: "short echo 255", capdu: append([]byte{0x00, 0xD6, 0x00, 0x00, 0xFF}, data[:255]...), wantLen: 257},
		{name: "short Le 256", capdu: []byte{0x00, 0xB0, 0x00, 0x00, 0x00}, wantLen: 258},
		{name: "extended Le 4096", capdu: []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x10, 0x00}, wantLen: 4098},
		{name: "extended Le 65533", capdu: []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0xFF, 0xFD}, wantLen: 65535},
		{name: "extended Lc 65528", capdu: append([]byte{0x00, 0xD6, 0x00, 0x00, 0x00, 0xFF, 0xF8}, data...), wantLen: 0xFFF8 + 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Transmit(ctx, tc.capdu)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp) != tc.wantLen || !bytes.Equal(resp[len(resp)-2:], []byte{0x90, 0x00}) {
				t.Errorf("response %d bytes ending % X, want %d ending 90 00", len(resp), resp[max(len(resp)-2, 0):], tc.wantLen)
			}
		})
	}
	t.Run("response beyond a vpcd frame", func(t *testing.T) {
		// Le 65534 needs 65536 response bytes: vpcd cannot carry them, so
		// the card side answers 6F00.
		resp, err := c.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0xFF, 0xFE})
		if err != nil || !bytes.Equal(resp, []byte{0x6F, 0x00}) {
			t.Errorf("Transmit = % X, %v; want 6F 00", resp, err)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Transmit(cctx, []byte{0x00, 0xA4, 0x00, 0x00}); !errors.Is(err, reader.ErrCanceled) || !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("too short", func(t *testing.T) {
		if _, err := c.Transmit(ctx, []byte{0x00, 0xA4}); err == nil {
			t.Error("no error for a 2-byte command")
		}
	})
}

// TestCommandBeyondFrame shows the stack's limit: vpcd refuses to frame a
// command of 65536 bytes or more and drops the card.
func TestCommandBeyondFrame(t *testing.T) {
	ctx, p := stack(t)
	_, ins, c := connect(ctx, t, p)
	capdu := append([]byte{0x00, 0xD6, 0x00, 0x00, 0x00, 0xFF, 0xF9}, make([]byte, 0xFFF9)...) // 65536 bytes
	start := time.Now()
	_, err := c.Transmit(ctx, capdu)
	if !errors.Is(err, reader.ErrCardRemoved) {
		t.Fatalf("err = %v, want ErrCardRemoved (vpcd ejects the card)", err)
	}
	t.Logf("65536-byte command: %v after %v", err, time.Since(start).Round(time.Millisecond))
	<-ins.Done()
	if !errors.Is(ins.Err(), vpcd.ErrReaderClosed) {
		t.Errorf("insertion: %v, want ErrReaderClosed", ins.Err())
	}
}

func TestCardRemoved(t *testing.T) {
	ctx, p := stack(t)
	for _, tc := range []struct {
		name  string
		pause time.Duration // between removal and the next Transmit
	}{{"transmit at once", 0}, {"transmit after pcscd noticed", time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			_, ins, c := connect(ctx, t, p)
			if _, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00}); err != nil {
				t.Fatal(err)
			}
			ins.Remove()
			time.Sleep(tc.pause)
			start := time.Now()
			_, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00})
			took := time.Since(start)
			if !errors.Is(err, reader.ErrCardRemoved) {
				t.Fatalf("err = %v, want ErrCardRemoved", err)
			}
			t.Logf("ErrCardRemoved after %v: %v", took.Round(time.Millisecond), err)
			if took > 2*time.Second {
				t.Errorf("removal detected after %v, want < 2 s", took)
			}
			if err := p.WaitForRemoval(ctx, c.Reader()); err != nil {
				t.Errorf("WaitForRemoval: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close after removal: %v", err)
			}
		})
	}
}

func TestConnectErrors(t *testing.T) {
	ctx, p := stack(t)
	_, _, held := connect(ctx, t, p)
	tests := []struct {
		name   string
		reader string
		want   error
	}{
		{name: "held exclusively", reader: held.Reader(), want: reader.ErrReaderBusy},
		{name: "empty reader", reader: pcsctest.ReaderName(1), want: reader.ErrNoCard},
		{name: "unknown reader", reader: "No Such Reader 00 00", want: reader.ErrReaderGone},
		{name: "no name", reader: "", want: reader.ErrReaderGone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := p.Connect(ctx, tc.reader)
			if !errors.Is(err, tc.want) || c != nil {
				t.Errorf("Connect = %v, %v; want %v", c, err, tc.want)
			}
		})
	}
}

func TestReconnectAndClose(t *testing.T) {
	ctx, p := stack(t)
	card, _, c := connect(ctx, t, p)
	before := card.resets.Load()
	if err := c.Reconnect(ctx); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if card.resets.Load() == before {
		t.Error("Reconnect did not reset the card")
	}
	if _, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00}); err != nil {
		t.Fatalf("Transmit after Reconnect: %v", err)
	}
	before = card.resets.Load()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if card.resets.Load() == before {
		t.Error("Close did not reset the card")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00}); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Transmit after Close: %v, want ErrClosed", err)
	}
	if err := c.Reconnect(ctx); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Reconnect after Close: %v, want ErrClosed", err)
	}
	// The reader is free again.
	c2, err := p.Connect(ctx, pcsctest.ReaderName(0))
	if err != nil {
		t.Fatalf("Connect after Close: %v", err)
	}
	c2.Close()
}

func TestClosedPCSC(t *testing.T) {
	pcsctest.Require(t)
	p, err := reader.Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := p.Readers(ctx); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Readers: %v", err)
	}
	if _, err := p.Connect(ctx, pcsctest.ReaderName(0)); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("Connect: %v", err)
	}
	if _, err := p.WaitForCard(ctx, ""); !errors.Is(err, reader.ErrClosed) {
		t.Errorf("WaitForCard: %v", err)
	}
}

func TestReconnectAfterPutBack(t *testing.T) {
	ctx, p := stack(t)
	_, ins, c := connect(ctx, t, p)
	ins.Remove()
	if err := p.WaitForRemoval(ctx, c.Reader()); err != nil {
		t.Fatal(err)
	}
	card := &testCard{}
	insert(ctx, t, vpcd.Addr(0), card)
	if _, err := p.WaitForCard(ctx, c.Reader()); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconnect(ctx); err != nil {
		t.Fatalf("Reconnect: %v", err)
	}
	if _, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00}); err != nil {
		t.Fatalf("Transmit after Reconnect: %v", err)
	}
}
