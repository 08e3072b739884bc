package reader

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"
)

// settle bounds how long a failed exchange waits for pcscd to report the
// card's state, to tell a removed card from a communication error. pcscd
// polls readers without card-change interrupts (vpcd among them) every
// 400 ms.
const settle = 1500 * time.Millisecond

// errShortResponse is the cause when a reader returns fewer than two bytes.
var errShortResponse = errors.New("response shorter than a status word")

// Card is a card connected exclusively through one reader. It satisfies
// icao.Transport. Its methods are safe for concurrent use, but exchanges are
// serialised; see the package documentation.
type Card struct {
	mu     sync.Mutex
	sc     *scard.Context // owned: a context per card keeps waits elsewhere from blocking it
	h      *scard.Card
	reader string
	atr    []byte
	events uint32 // pcscd's insertion/removal counter for the reader at connect
	closed bool
}

// Connect connects to the card in the reader called name with exclusive
// access (SCARD_SHARE_EXCLUSIVE), so that no other application can
// interleave APDUs with a passport read, using T=1 or T=0, whichever the
// card offers. It fails with [ErrReaderBusy] when another connection holds
// the card, [ErrNoCard] when the reader is empty and [ErrReaderGone] when no
// reader has that name.
func (p *PCSC) Connect(ctx context.Context, name string) (*Card, error) {
	const op = "connect"
	if err := ctx.Err(); err != nil {
		return nil, canceled(op, err)
	}
	if p.isClosed() {
		return nil, failKind(op, ErrClosed, nil)
	}
	if name == "" {
		return nil, failKind(op, ErrReaderGone, errors.New("no reader name"))
	}
	sc, err := establish(op)
	if err != nil {
		return nil, err
	}
	h, err := sc.Connect(name, scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		sc.Release()
		return nil, fail(op, phaseConnect, err)
	}
	c := &Card{sc: sc, h: h, reader: name}
	if err := c.status(op); err != nil {
		h.Disconnect(scard.LeaveCard)
		sc.Release()
		return nil, err
	}
	return c, nil
}

// status reads the ATR and pcscd's event counter of the connected card. It
// also insists on T=0 or T=1, the only protocols scard.Card.Transmit takes
// (it panics on any other).
func (c *Card) status(op string) error {
	if p := c.h.ActiveProtocol(); p != scard.ProtocolT0 && p != scard.ProtocolT1 {
		return failKind(op, ErrCommunication, fmt.Errorf("card protocol %#x is neither T=0 nor T=1", uint32(p)))
	}
	st, err := c.h.Status()
	if err != nil {
		return fail(op, phaseCard, err)
	}
	c.atr = append([]byte(nil), st.Atr...)
	c.events = uint32(st.State) >> 16
	return nil
}

// Transmit sends a command APDU and returns the response APDU (data
// followed by SW1 SW2). ctx is checked before sending; an exchange under way
// cannot be interrupted (PC/SC has no cancel for SCardTransmit), the
// reader's own timeouts bound it. When an exchange fails, Transmit waits up
// to 1.5 s for pcscd to report the card's state, so that a card taken
// away reads as [ErrCardRemoved] rather than [ErrCommunication].
func (c *Card) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	const op = "transmit"
	if err := ctx.Err(); err != nil {
		return nil, canceled(op, err)
	}
	if len(capdu) < 4 {
		return nil, &opError{op: op, errs: []error{errors.New("command APDU shorter than its header")}}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, failKind(op, ErrClosed, nil)
	}
	resp, err := c.h.Transmit(capdu)
	if err == nil && len(resp) >= 2 {
		return append([]byte(nil), resp...), nil // resp lives in a 64 KiB buffer
	}
	if err == nil {
		err = errShortResponse
	}
	return nil, c.exchangeFailed(op, err)
}

// exchangeFailed classifies a failed exchange. A communication error or a
// short response is reported as a removal when pcscd confirms within settle
// that the card is gone.
func (c *Card) exchangeFailed(op string, err error) error {
	var code scard.Error
	if errors.As(err, &code) && code == scard.ErrSecurityViolation {
		return failKind(op, c.refusal(settle), err)
	}
	if errors.As(err, &code) && classify(phaseCard, code) != ErrCommunication {
		return fail(op, phaseCard, err)
	}
	k := c.awaitRemoval(settle)
	if k == nil {
		k = ErrCommunication
	}
	return failKind(op, k, err)
}

// refusal tells what a SCARD_W_SECURITY_VIOLATION on a connected card
// means. pcscd answers it to the calls of clients it is dropping while it
// shuts down (SIGTERM: systemctl restart, package upgrades); polkit decides
// when a context is established and a card connected, so a real refusal
// of an exchange on a connected card is not expected. pcscd is asked for up
// to d: once the card's own context or a new one finds the service gone,
// it is [ErrNoService], and the read resumes when pcscd is back. A pcscd
// that keeps serving through d refused for real: [ErrAccessDenied], whose
// message says what polkit must allow.
func (c *Card) refusal(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if _, err := listReaders(c.sc); stale(err) {
			return ErrNoService
		}
		sc, err := scard.EstablishContext()
		if err == nil {
			_, err = listReaders(sc)
			sc.Release()
		}
		if stale(err) {
			return ErrNoService
		}
		if time.Now().After(deadline) {
			return ErrAccessDenied
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awaitRemoval watches the reader for up to d and returns ErrCardRemoved
// once pcscd reports the card gone (or replaced: its event counter moved),
// ErrReaderGone or ErrNoService if the reader or pcscd went away, and nil if
// the card is still there after d.
func (c *Card) awaitRemoval(d time.Duration) error {
	st := []scard.ReaderState{{Reader: c.reader, CurrentState: scard.StateUnaware}}
	deadline := time.Now().Add(d)
	for timeout := time.Duration(0); ; timeout = time.Until(deadline) {
		err := c.sc.GetStatusChange(st, timeout)
		if errors.Is(err, scard.ErrTimeout) {
			return nil
		}
		if err != nil {
			var code scard.Error
			errors.As(err, &code)
			return classify(phaseCard, code)
		}
		ev := st[0].EventState
		if ev&scard.StatePresent == 0 || uint32(ev)>>16 != c.events {
			return ErrCardRemoved
		}
		if time.Until(deadline) <= 0 {
			return nil
		}
		st[0].CurrentState = ev &^ scard.StateChanged
	}
}

// ATR returns the card's answer to reset as pcscd reported it at connect.
func (c *Card) ATR() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.atr...)
}

// Reader returns the name of the reader the card is in.
func (c *Card) Reader() string { return c.reader }

// MaxAPDU returns the longest command APDU the reader accepts, if its driver
// reports one (SCARD_ATTR_MAXINPUT, 0x0007A007; the CCID driver derives it
// from dwMaxCCIDMessageLength). ok is false when the driver does not say;
// vpcd does not, and carries commands and responses of up to 65535 bytes.
// Send extended-length APDUs only when the reader allows them and the chip
// announces support (EF.ATR/INFO or the historical bytes).
func (c *Card) MaxAPDU() (n int, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, false
	}
	b, err := c.h.GetAttrib(scard.AttrMaxinput)
	if err != nil {
		return 0, false
	}
	var v uint64
	switch len(b) { // a DWORD in host byte order; drivers write 4 bytes
	case 4:
		v = uint64(binary.NativeEndian.Uint32(b))
	case 8:
		v = binary.NativeEndian.Uint64(b)
	}
	if v == 0 || v > 1<<20 {
		return 0, false
	}
	return int(v), true
}

// Reconnect resets the card (SCardReconnect with SCARD_RESET_CARD) and
// keeps exclusive access: the chip starts a fresh session, as needed after
// its secure messaging session died or after the card was put back. It
// fails with [ErrNoCard] when the reader is empty.
func (c *Card) Reconnect(ctx context.Context) error {
	const op = "reconnect"
	if err := ctx.Err(); err != nil {
		return canceled(op, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return failKind(op, ErrClosed, nil)
	}
	if err := c.h.Reconnect(scard.ShareExclusive, scard.ProtocolAny, scard.ResetCard); err != nil {
		if errors.Is(err, scard.ErrSecurityViolation) {
			return failKind(op, c.refusal(settle), err)
		}
		return fail(op, phaseConnect, err)
	}
	return c.status(op)
}

// Close resets the card and releases it (SCardDisconnect with
// SCARD_RESET_CARD). Resetting rather than leaving the card ends the chip's
// access-control and secure messaging session, so the next connection, ours
// or another application's, starts from a clean chip instead of inheriting
// an authenticated state. A card already removed, or a pcscd already gone,
// is not an error. Close is idempotent.
func (c *Card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	err := c.h.Disconnect(scard.ResetCard)
	c.sc.Release()
	if err == nil {
		return nil
	}
	var code scard.Error
	if errors.As(err, &code) {
		switch classify(phaseCard, code) {
		case ErrCardRemoved, ErrNoService, ErrReaderGone:
			return nil
		}
	}
	return fail("close", phaseCard, err)
}
