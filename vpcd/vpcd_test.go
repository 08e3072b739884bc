package vpcd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoCard answers every command with its data field and 9000, counts
// resets, and can be told to answer something else.
type echoCard struct {
	resets atomic.Int32
	answer func(capdu []byte) ([]byte, error) // nil: echo
}

func (c *echoCard) Transmit(_ context.Context, capdu []byte) ([]byte, error) {
	if c.answer != nil {
		return c.answer(capdu)
	}
	var data []byte
	if len(capdu) > 5 {
		data = capdu[5:]
	}
	return append(append([]byte(nil), data...), 0x90, 0x00), nil
}

func (c *echoCard) Reset() { c.resets.Add(1) }

// fakeVPCD plays the reader side of the protocol over a TCP listener.
type fakeVPCD struct {
	t    *testing.T
	conn net.Conn
}

// insertFake inserts card into a fake vpcd and returns both ends.
func insertFake(ctx context.Context, t *testing.T, card Card, cfg *Config) (*fakeVPCD, *Insertion) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ins, err := Insert(ctx, ln.Addr().String(), card, cfg)
	require.NoError(t, err, "Insert")
	t.Cleanup(func() { ins.Remove() })
	conn, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &fakeVPCD{t: t, conn: conn}, ins
}

func (f *fakeVPCD) send(msg []byte) {
	f.t.Helper()
	b := binary.BigEndian.AppendUint16(nil, uint16(len(msg)))
	_, err := f.conn.Write(append(b, msg...))
	require.NoError(f.t, err)
}

// exchange sends msg and returns the answer frame.
func (f *fakeVPCD) exchange(msg []byte) []byte {
	f.t.Helper()
	f.send(msg)
	f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, err := readFrame(f.conn)
	require.NoError(f.t, err, "read answer")
	return out
}

// wantBytes fails t unless got equals want, printing short prefixes only:
// frames run to 64 KiB, whose hex diff would bury the message.
func wantBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	assert.True(t, bytes.Equal(got, want), "%s = % X… (%d bytes), want % X… (%d bytes)", what, head(got), len(got), head(want), len(want))
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

func TestDefaultATR(t *testing.T) {
	atr := DefaultATR()
	wantBytes(t, "DefaultATR", atr, []byte{0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77, 0x81, 0x81, 0x00, 0x7E})
	var x byte
	for _, b := range atr[1:] { // TCK makes T0 ^ … ^ TCK zero (ISO 7816-3 §8.2.5)
		x ^= b
	}
	assert.Zero(t, x, "XOR of T0..TCK")
	assert.Equal(t, len(atr)-5, int(atr[1]&0x0F), "historical bytes T0 announces") // TS T0 TD1 TD2 … TCK
	atr[0] = 0
	assert.Equal(t, byte(0x3B), DefaultATR()[0], "DefaultATR does not return a copy")
}

func TestAddr(t *testing.T) {
	for slot, want := range []string{"127.0.0.1:35963", "127.0.0.1:35964"} {
		assert.Equal(t, want, Addr(slot), "Addr(%d)", slot)
	}
}

func TestControlMessages(t *testing.T) {
	card := &echoCard{}
	custom := []byte{0x3B, 0x80, 0x80, 0x01, 0x01}
	f, ins := insertFake(context.Background(), t, card, &Config{ATR: custom})

	select {
	case <-ins.Attached():
		require.FailNow(t, "attached before vpcd spoke")
	default:
	}
	wantBytes(t, "ATR", f.exchange([]byte{ctrlATR}), custom)
	<-ins.Attached()

	// Power off, power on, reset and unknown codes have no answer: the next
	// frame read must be the answer to the get ATR that follows them.
	for _, code := range []byte{ctrlPowerOff, ctrlPowerOn, ctrlReset, 0x03, 0xFF} {
		f.send([]byte{code})
	}
	f.send(nil) // an empty frame is ignored
	wantBytes(t, "ATR", f.exchange([]byte{ctrlATR}), custom)
	assert.Equal(t, int32(3), card.resets.Load(), "resets (power off, power on, reset)")
}

func TestAPDU(t *testing.T) {
	long := bytes.Repeat([]byte{0xA5}, maxFrame-7)
	extended := append([]byte{0x00, 0xD6, 0x00, 0x00, 0x00, byte(len(long) >> 8), byte(len(long))}, long...)
	fixed := func(b []byte, err error) func([]byte) ([]byte, error) {
		return func([]byte) ([]byte, error) { return b, err }
	}
	readBinary := []byte{0x00, 0xB0, 0x00, 0x00, 0x00}
	tests := []struct {
		name   string
		answer func([]byte) ([]byte, error)
		capdu  []byte
		want   []byte
	}{
		{name: "short echo", capdu: []byte{0x00, 0xA4, 0x04, 0x0C, 0x02, 0x01, 0x02}, want: []byte{0x01, 0x02, 0x90, 0x00}},
		{name: "header only", capdu: []byte{0x00, 0x84, 0x00, 0x00}, want: []byte{0x90, 0x00}},
		{name: "largest command frame", capdu: extended, want: append(append([]byte(nil), extended[5:]...), 0x90, 0x00)}, // echoCard echoes from byte 5
		{name: "card error", answer: fixed(nil, errors.New("boom")), capdu: readBinary, want: []byte{0x6F, 0x00}},
		{name: "nil response", answer: fixed(nil, nil), capdu: readBinary, want: []byte{0x6F, 0x00}},
		{name: "response without status word", answer: fixed([]byte{0x90}, nil), capdu: readBinary, want: []byte{0x6F, 0x00}},
		{name: "largest response", answer: fixed(make([]byte, maxFrame), nil), capdu: readBinary, want: make([]byte, maxFrame)},
		{name: "response longer than a frame", answer: fixed(make([]byte, maxFrame+1), nil), capdu: readBinary, want: []byte{0x6F, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, ins := insertFake(context.Background(), t, &echoCard{answer: tc.answer}, nil)
			wantBytes(t, "response", f.exchange(tc.capdu), tc.want)
			// The card keeps serving after a failed command.
			wantBytes(t, "ATR", f.exchange([]byte{ctrlATR}), DefaultATR())
			assert.NoError(t, ins.Err())
		})
	}
}

func TestConfigATR(t *testing.T) {
	tests := []struct {
		name string
		atr  []byte
		ok   bool
	}{
		{name: "empty", atr: []byte{}},
		{name: "TS only", atr: []byte{0x3B}},
		{name: "shortest", atr: []byte{0x3B, 0x00}, ok: true},
		{name: "inverse convention", atr: []byte{0x3F, 0x00}, ok: true},
		{name: "33 bytes", atr: append([]byte{0x3B}, make([]byte, 32)...), ok: true},
		{name: "34 bytes", atr: append([]byte{0x3B}, make([]byte, 33)...)},
		{name: "bad TS", atr: []byte{0x3C, 0x00}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&Config{ATR: tc.atr}).atr()
			if !tc.ok {
				assert.Error(t, err, "atr()")
				assert.Nil(t, got, "atr()")
			} else if assert.NoError(t, err, "atr()") {
				wantBytes(t, "atr()", got, tc.atr)
			}
		})
	}
}

func TestInsertErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there any more

	tests := []struct {
		name string
		card Card
		cfg  *Config
		want func(error) bool
	}{
		{name: "refused", card: &echoCard{}, want: func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
		{name: "nil card", want: func(err error) bool { return err != nil }},
		{name: "bad ATR", card: &echoCard{}, cfg: &Config{ATR: []byte{1}}, want: func(err error) bool { return err != nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ins, err := Insert(context.Background(), addr, tc.card, tc.cfg)
			assert.Nil(t, ins, "Insert")
			assert.True(t, tc.want(err), "Insert error %v", err)
		})
	}
}

func TestStop(t *testing.T) {
	tests := []struct {
		name    string
		stop    func(t *testing.T, f *fakeVPCD, ins *Insertion, cancel context.CancelFunc)
		wantErr error // nil: Err must be nil
	}{
		{name: "remove", stop: func(t *testing.T, _ *fakeVPCD, ins *Insertion, _ context.CancelFunc) {
			assert.NoError(t, ins.Remove(), "Remove")
		}},
		{name: "context", stop: func(_ *testing.T, _ *fakeVPCD, _ *Insertion, cancel context.CancelFunc) { cancel() }},
		{name: "vpcd closes", stop: func(_ *testing.T, f *fakeVPCD, _ *Insertion, _ context.CancelFunc) { f.conn.Close() }, wantErr: ErrReaderClosed},
		{
			name: "frame cut short",
			stop: func(_ *testing.T, f *fakeVPCD, _ *Insertion, _ context.CancelFunc) {
				f.conn.Write([]byte{0x00, 0x10, 0x00, 0xA4})
				f.conn.Close()
			},
			wantErr: io.ErrUnexpectedEOF,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f, ins := insertFake(ctx, t, &echoCard{}, nil)
			wantBytes(t, "ATR", f.exchange([]byte{ctrlATR}), DefaultATR())
			assert.NoError(t, ins.Err(), "Err before Done")
			tc.stop(t, f, ins, cancel)
			select {
			case <-ins.Done():
			case <-time.After(5 * time.Second):
				require.FailNow(t, "serving did not stop")
			}
			err := ins.Err()
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr, "Err")
				return
			}
			assert.NoError(t, err, "Err")
			// vpcd sees the connection closed: that is the removal.
			f.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = f.conn.Read(make([]byte, 1))
			assert.ErrorIs(t, err, io.EOF, "vpcd read after stop")
			assert.NoError(t, ins.Remove(), "Remove after stop")
		})
	}
}

// blockingCard blocks in Transmit until its context ends.
type blockingCard struct {
	entered  chan struct{}
	returned atomic.Bool
}

func (c *blockingCard) Transmit(ctx context.Context, _ []byte) ([]byte, error) {
	close(c.entered)
	<-ctx.Done()
	c.returned.Store(true)
	return nil, ctx.Err()
}

func TestRemoveWaitsForTransmit(t *testing.T) {
	card := &blockingCard{entered: make(chan struct{})}
	f, ins := insertFake(context.Background(), t, card, nil)
	f.send([]byte{0x00, 0xB0, 0x00, 0x00, 0x00})
	<-card.entered
	var wg sync.WaitGroup
	for range 2 { // Remove is safe for concurrent use
		wg.Go(func() {
			// assert, not require: this is not the test's goroutine.
			assert.NoError(t, ins.Remove(), "Remove")
			assert.True(t, card.returned.Load(), "Remove returned while Transmit was running")
		})
	}
	wg.Wait()
	assert.NoError(t, ins.Err())
}

// FuzzServe feeds arbitrary bytes from "vpcd" to the card side: it must not
// panic, must answer only with well-formed frames, and must answer exactly
// the get-ATR messages and the APDUs of the complete frames it was sent.
func FuzzServe(f *testing.F) {
	frame := func(msgs ...[]byte) []byte {
		var b []byte
		for _, m := range msgs {
			b = binary.BigEndian.AppendUint16(b, uint16(len(m)))
			b = append(b, m...)
		}
		return b
	}
	f.Add(frame([]byte{ctrlATR}, []byte{ctrlPowerOn}, []byte{0x00, 0xA4, 0x04, 0x0C, 0x02, 0x01, 0x02}))
	f.Add(frame(nil, []byte{0x07}, []byte{0x00, 0x84}))
	f.Add([]byte{0xFF, 0xFF, 0x00})
	f.Add([]byte{0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		var want int // answers due for the complete frames in in
		for rest := in; len(rest) >= 2; {
			n := int(binary.BigEndian.Uint16(rest))
			if len(rest) < 2+n {
				break
			}
			if n > 1 || (n == 1 && rest[2] == ctrlATR) {
				want++
			}
			rest = rest[2+n:]
		}
		var out bytes.Buffer
		s := &server{card: &echoCard{}, atr: DefaultATR(), r: bytes.NewReader(in), w: &out}
		require.Error(t, s.serve(context.Background()), "serve returned nil at end of input")
		var got int
		for r := bytes.NewReader(out.Bytes()); r.Len() > 0; got++ {
			msg, err := readFrame(r)
			require.NoError(t, err, "answer %d malformed", got)
			require.GreaterOrEqual(t, len(msg), 2, "answer %d length", got)
		}
		require.Equal(t, want, got, "answers")
	})
}
