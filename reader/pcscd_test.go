package reader_test

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	require.NoError(t, err, "Open")
	t.Cleanup(func() { p.Close() })
	return ctx, p
}

// insert puts card into vpcd slot addr and removes it when the test ends.
func insert(ctx context.Context, t *testing.T, addr string, card vpcd.Card) *vpcd.Insertion {
	t.Helper()
	ins, err := vpcd.Insert(ctx, addr, card, nil)
	require.NoError(t, err, "Insert")
	t.Cleanup(func() { ins.Remove() })
	return ins
}

// connect inserts a testCard into slot 0 and connects to it.
func connect(ctx context.Context, t *testing.T, p *reader.PCSC) (*testCard, *vpcd.Insertion, *reader.Card) {
	t.Helper()
	card := &testCard{}
	ins := insert(ctx, t, vpcd.Addr(0), card)
	name, err := p.WaitForCard(ctx, pcsctest.ReaderName(0))
	require.NoError(t, err, "WaitForCard")
	c, err := p.Connect(ctx, name)
	require.NoError(t, err, "Connect")
	t.Cleanup(func() { c.Close() })
	return card, ins, c
}

// info returns the Info of reader name.
func info(ctx context.Context, t *testing.T, p *reader.PCSC, name string) reader.Info {
	t.Helper()
	infos, err := p.Readers(ctx)
	require.NoError(t, err, "Readers")
	for _, in := range infos {
		if in.Name == name {
			return in
		}
	}
	require.FailNowf(t, "reader not listed", "reader %q not in %v", name, infos)
	return reader.Info{}
}

func TestReaders(t *testing.T) {
	ctx, p := stack(t)
	name := pcsctest.ReaderName(0)
	for slot := range pcsctest.Slots {
		in := info(ctx, t, p, pcsctest.ReaderName(slot))
		assert.False(t, in.CardPresent, "before insertion: %+v", in)
		assert.Nil(t, in.ATR, "before insertion: %+v", in)
	}
	ins := insert(ctx, t, vpcd.Addr(0), &testCard{})
	_, err := p.WaitForCard(ctx, name)
	require.NoError(t, err)
	in := info(ctx, t, p, name)
	assert.True(t, in.CardPresent, "after insertion: %+v", in)
	assert.Equal(t, vpcd.DefaultATR(), in.ATR, "after insertion: %+v", in)
	assert.False(t, in.Exclusive, "after insertion: %+v", in)
	in = info(ctx, t, p, pcsctest.ReaderName(1))
	assert.False(t, in.CardPresent, "other slot after insertion: %+v", in)
	c, err := p.Connect(ctx, name)
	require.NoError(t, err)
	in = info(ctx, t, p, name)
	assert.True(t, in.Exclusive, "while connected: %+v", in)
	c.Close()
	ins.Remove()
	require.NoError(t, p.WaitForRemoval(ctx, name))
	in = info(ctx, t, p, name)
	assert.False(t, in.CardPresent, "after removal: %+v", in)
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
		require.NoError(t, <-inserted, "Insert")
		require.NoError(t, err, "WaitForCard")
		require.Equal(t, pcsctest.ReaderName(1), got, "WaitForCard")
		t.Logf("card seen %v after the wait began (inserted after 300 ms; pcscd polls vpcd every 400 ms)", time.Since(start).Round(time.Millisecond))
	})
	t.Run("any reader", func(t *testing.T) {
		// The card of the previous subtest is still in slot 1.
		got, err := p.WaitForCard(ctx, "")
		require.NoError(t, err, "WaitForCard(\"\")")
		require.Equal(t, pcsctest.ReaderName(1), got, "WaitForCard(\"\"), want the reader holding the card")
	})
	t.Run("held exclusively", func(t *testing.T) {
		c, err := p.Connect(ctx, pcsctest.ReaderName(1))
		require.NoError(t, err)
		defer c.Close()
		// The card counts as present; Connect reports the reader busy.
		got, err := p.WaitForCard(ctx, "")
		require.NoError(t, err, "WaitForCard")
		require.Equal(t, pcsctest.ReaderName(1), got, "WaitForCard")
		_, err = p.Connect(ctx, pcsctest.ReaderName(1))
		require.ErrorIs(t, err, reader.ErrReaderBusy, "Connect")
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
				require.ErrorIs(t, err, context.Canceled)
				require.ErrorIs(t, err, reader.ErrCanceled)
				t.Logf("returned %v after the cancel", late.Round(time.Microsecond))
				assert.LessOrEqual(t, late, time.Second, "time to return after the cancel")
			})
		}
	})
	t.Run("unknown reader", func(t *testing.T) {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := p.WaitForCard(wctx, "No Such Reader 00 00")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorIs(t, err, reader.ErrReaderGone)
	})
	t.Run("closed", func(t *testing.T) {
		q, err := reader.Open()
		require.NoError(t, err)
		time.AfterFunc(200*time.Millisecond, func() { q.Close() })
		_, err = q.WaitForCard(ctx, pcsctest.ReaderName(0))
		require.ErrorIs(t, err, reader.ErrClosed)
	})
}

func TestTransmit(t *testing.T) {
	ctx, p := stack(t)
	_, _, c := connect(ctx, t, p)
	assert.Equal(t, pcsctest.ReaderName(0), c.Reader(), "Reader")
	assert.Equal(t, vpcd.DefaultATR(), c.ATR(), "ATR")
	n, ok := c.MaxAPDU()
	assert.False(t, ok, "MaxAPDU = %d, true; vpcd does not report one", n)
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
			require.NoError(t, err)
			// Not assert.Len: it would print up to 64 KiB of response.
			if assert.Equal(t, tc.wantLen, len(resp), "response length") {
				assert.Equal(t, []byte{0x90, 0x00}, resp[len(resp)-2:], "status word")
			}
		})
	}
	t.Run("response beyond a vpcd frame", func(t *testing.T) {
		// Le 65534 needs 65536 response bytes: vpcd cannot carry them, so
		// the card side answers 6F00.
		resp, err := c.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0xFF, 0xFE})
		if assert.NoError(t, err, "Transmit") {
			assert.Equal(t, []byte{0x6F, 0x00}, resp, "Transmit")
		}
	})
	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := c.Transmit(cctx, []byte{0x00, 0xA4, 0x00, 0x00})
		assert.ErrorIs(t, err, reader.ErrCanceled)
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("too short", func(t *testing.T) {
		_, err := c.Transmit(ctx, []byte{0x00, 0xA4})
		assert.Error(t, err, "no error for a 2-byte command")
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
	require.ErrorIs(t, err, reader.ErrCardRemoved, "vpcd ejects the card")
	t.Logf("65536-byte command: %v after %v", err, time.Since(start).Round(time.Millisecond))
	<-ins.Done()
	assert.ErrorIs(t, ins.Err(), vpcd.ErrReaderClosed, "insertion")
}

func TestCardRemoved(t *testing.T) {
	ctx, p := stack(t)
	for _, tc := range []struct {
		name  string
		pause time.Duration // between removal and the next Transmit
	}{{"transmit at once", 0}, {"transmit after pcscd noticed", time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			_, ins, c := connect(ctx, t, p)
			_, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00})
			require.NoError(t, err)
			ins.Remove()
			time.Sleep(tc.pause)
			start := time.Now()
			_, err = c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00})
			took := time.Since(start)
			require.ErrorIs(t, err, reader.ErrCardRemoved)
			t.Logf("ErrCardRemoved after %v: %v", took.Round(time.Millisecond), err)
			assert.LessOrEqual(t, took, 2*time.Second, "time to detect the removal")
			assert.NoError(t, p.WaitForRemoval(ctx, c.Reader()), "WaitForRemoval")
			assert.NoError(t, c.Close(), "Close after removal")
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
			assert.ErrorIs(t, err, tc.want, "Connect")
			assert.Nil(t, c, "Connect")
		})
	}
}

func TestReconnectAndClose(t *testing.T) {
	ctx, p := stack(t)
	card, _, c := connect(ctx, t, p)
	before := card.resets.Load()
	require.NoError(t, c.Reconnect(ctx), "Reconnect")
	assert.NotEqual(t, before, card.resets.Load(), "Reconnect did not reset the card")
	_, err := c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00})
	require.NoError(t, err, "Transmit after Reconnect")
	before = card.resets.Load()
	require.NoError(t, c.Close(), "Close")
	assert.NotEqual(t, before, card.resets.Load(), "Close did not reset the card")
	assert.NoError(t, c.Close(), "second Close")
	_, err = c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00})
	assert.ErrorIs(t, err, reader.ErrClosed, "Transmit after Close")
	assert.ErrorIs(t, c.Reconnect(ctx), reader.ErrClosed, "Reconnect after Close")
	// The reader is free again.
	c2, err := p.Connect(ctx, pcsctest.ReaderName(0))
	require.NoError(t, err, "Connect after Close")
	c2.Close()
}

func TestClosedPCSC(t *testing.T) {
	pcsctest.Require(t)
	p, err := reader.Open()
	require.NoError(t, err)
	require.NoError(t, p.Close())
	assert.NoError(t, p.Close(), "second Close")
	ctx := context.Background()
	_, err = p.Readers(ctx)
	assert.ErrorIs(t, err, reader.ErrClosed, "Readers")
	_, err = p.Connect(ctx, pcsctest.ReaderName(0))
	assert.ErrorIs(t, err, reader.ErrClosed, "Connect")
	_, err = p.WaitForCard(ctx, "")
	assert.ErrorIs(t, err, reader.ErrClosed, "WaitForCard")
}

func TestReconnectAfterPutBack(t *testing.T) {
	ctx, p := stack(t)
	_, ins, c := connect(ctx, t, p)
	ins.Remove()
	require.NoError(t, p.WaitForRemoval(ctx, c.Reader()))
	card := &testCard{}
	insert(ctx, t, vpcd.Addr(0), card)
	_, err := p.WaitForCard(ctx, c.Reader())
	require.NoError(t, err)
	require.NoError(t, c.Reconnect(ctx), "Reconnect")
	_, err = c.Transmit(ctx, []byte{0x00, 0xA4, 0x00, 0x00})
	require.NoError(t, err, "Transmit after Reconnect")
}
