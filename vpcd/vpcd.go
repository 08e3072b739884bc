package vpcd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// BasePort is the TCP port of vpcd slot 0; slot n listens on BasePort+n
// (CHANNELID 0x8C7B in /etc/reader.conf.d/vpcd).
const BasePort = 35963

// defaultDialTimeout bounds the TCP connect when [Config.DialTimeout] is zero.
const defaultDialTimeout = 5 * time.Second

// ErrReaderClosed reports that vpcd closed the connection, for example
// because pcscd stopped or unloaded the driver.
var ErrReaderClosed = errors.New("vpcd: reader closed the connection")

// Card is what the virtual reader talks to: it answers one command APDU
// with one response APDU (data followed by SW1 SW2). It has the shape of
// icao.Transport, so a virtual chip serves either side. capdu belongs to the
// callee. Calls are never concurrent.
type Card interface {
	Transmit(ctx context.Context, capdu []byte) ([]byte, error)
}

// Resetter is optionally implemented by a [Card] that keeps session state.
// Reset is called when the reader powers the card off or on or resets it,
// as a real chip loses its secure messaging session when the field drops.
// It is never called concurrently with Transmit.
type Resetter interface {
	Reset()
}

// Addr returns the TCP address of vpcd slot n: 127.0.0.1:35963+n.
func Addr(slot int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(BasePort+slot))
}

// defaultATR is a contactless ISO 14443-4 Type B answer to reset as built by
// a PC/SC reader (PC/SC part 3 §3.1.3.2.3.2): 3B 88 80 01, then eight
// historical bytes — application data 00 00 00 00 and protocol info 77 81 81
// from ATQB (all bit rates to 848 kbit/s, 256-byte frames, ISO 14443-4,
// FWI 8, CID supported), MBLI 00 — and TCK 7E, the XOR of T0 to the last
// historical byte. Many ePassports present exactly this ATR.
var defaultATR = [...]byte{0x3B, 0x88, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x77, 0x81, 0x81, 0x00, 0x7E}

// DefaultATR returns a copy of the ATR a card presents when [Config.ATR] is
// nil: 3B 88 80 01 00 00 00 00 77 81 81 00 7E, a contactless Type B ATR as
// PC/SC readers synthesise it for ePassports.
func DefaultATR() []byte { return append([]byte(nil), defaultATR[:]...) }

// Config tunes [Insert]. A nil *Config is the zero Config.
type Config struct {
	// ATR is the answer to reset sent to the reader: 2 to 33 bytes starting
	// with TS 3B or 3F. nil means [DefaultATR].
	ATR []byte
	// DialTimeout bounds the TCP connect to vpcd; zero means 5 s.
	DialTimeout time.Duration

	// noQuickAck turns TCP_QUICKACK off; tests use it to measure the stall.
	noQuickAck bool
}

func (c *Config) atr() ([]byte, error) {
	if c == nil || c.ATR == nil {
		return DefaultATR(), nil
	}
	if n := len(c.ATR); n < 2 || n > 33 {
		return nil, fmt.Errorf("vpcd: ATR of %d bytes, want 2 to 33", n)
	}
	if ts := c.ATR[0]; ts != 0x3B && ts != 0x3F {
		return nil, fmt.Errorf("vpcd: ATR starts with TS %02X, want 3B or 3F", ts)
	}
	return append([]byte(nil), c.ATR...), nil
}

func (c *Config) dialTimeout() time.Duration {
	if c == nil || c.DialTimeout <= 0 {
		return defaultDialTimeout
	}
	return c.DialTimeout
}

// Insertion is a card being served to one vpcd slot.
type Insertion struct {
	conn     *net.TCPConn
	cancel   context.CancelFunc
	stopping atomic.Bool
	done     chan struct{}
	attached chan struct{}
	err      error // written before done is closed
	once     sync.Once
}

// Insert connects to vpcd at addr, which inserts card into that slot, and
// serves the card in a goroutine until ctx is done, [Insertion.Remove] is
// called or vpcd closes the connection.
//
// Each vpcd slot holds one card: a second card connecting to an occupied
// slot is queued by the kernel and only served after the first is removed.
//
// A command APDU for which card.Transmit returns an error, or a response
// shorter than a status word or longer than a frame (65535 bytes), is
// answered with 6F00 (no precise diagnosis) and serving continues, as a
// real chip answers a command it fails on. vpcd's reader never sees Go
// errors.
func Insert(ctx context.Context, addr string, card Card, cfg *Config) (*Insertion, error) {
	if card == nil {
		return nil, errors.New("vpcd: insert: nil card")
	}
	atr, err := cfg.atr()
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: cfg.dialTimeout()}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("vpcd: insert card at %s: %w", addr, err)
	}
	conn := c.(*net.TCPConn) // "tcp" always yields a *net.TCPConn
	if err := conn.SetNoDelay(true); err != nil {
		conn.Close()
		return nil, fmt.Errorf("vpcd: insert card at %s: %w", addr, err)
	}
	sctx, cancel := context.WithCancel(ctx)
	ins := &Insertion{
		conn:     conn,
		cancel:   cancel,
		done:     make(chan struct{}),
		attached: make(chan struct{}),
	}
	s := &server{card: card, atr: atr, r: newReader(conn, cfg == nil || !cfg.noQuickAck), w: conn}
	s.onFirst = func() { close(ins.attached) }
	go ins.run(sctx, s)
	return ins, nil
}

func (i *Insertion) run(ctx context.Context, s *server) {
	stop := context.AfterFunc(ctx, i.halt)
	err := s.serve(ctx)
	stop()
	i.cancel()
	i.conn.Close()
	switch {
	case i.stopping.Load():
		err = nil
	case isEOF(err):
		err = ErrReaderClosed
	default:
		err = fmt.Errorf("vpcd: serve card: %w", err)
	}
	i.err = err
	close(i.done)
}

// halt closes the connection on behalf of Remove or the context; serve then
// returns and Err reports nil.
func (i *Insertion) halt() {
	i.once.Do(func() {
		i.stopping.Store(true)
		i.cancel()
		i.conn.Close()
	})
}

// Remove closes the connection and waits until serving has stopped: the
// card is not called after Remove returns. pcscd sees the card removed at
// its next presence poll (up to about 400 ms later); a card inserted into
// the slot before then is accepted by that same poll, and pcscd sees one
// card that never left. Wait for the removal (reader's WaitForRemoval, or
// pcsctest.WaitEmpty in tests) before inserting the next card. Remove is
// idempotent and safe for concurrent use; it returns nil.
func (i *Insertion) Remove() error {
	i.halt()
	<-i.done
	return nil
}

func (i *Insertion) stopped() bool {
	select {
	case <-i.done:
		return true
	default:
		return false
	}
}

// Done is closed when serving stops: after Remove, when the context passed
// to [Insert] is done, or when vpcd closes the connection.
func (i *Insertion) Done() <-chan struct{} { return i.done }

// Attached is closed when vpcd first talks to the card (asks for its ATR),
// which shows that the driver accepted the connection and pcscd is about to
// report the card present.
func (i *Insertion) Attached() <-chan struct{} { return i.attached }

// Err reports why serving stopped once [Insertion.Done] is closed: nil after
// Remove or the end of the context, [ErrReaderClosed] when vpcd closed the
// connection, another error for a broken connection or a frame cut short.
// Before Done is closed it returns nil.
func (i *Insertion) Err() error {
	if !i.stopped() {
		return nil
	}
	return i.err
}
