package vchip

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/sm"
)

// ErrRemoved is returned by [Passport.Transmit] once the card has taken
// itself away ([Config.RemoveAfter]), as a reader reports a card pulled out
// of the field.
var ErrRemoved = errors.New("vchip: card removed")

// Passport is a virtual eMRTD chip serving one [Dataset]. It satisfies
// icao.Transport and vpcd.Card, and is safe for concurrent use: commands
// are processed one at a time, as a chip does. It holds the BAC key, the
// PACE passwords and the session keys, so it has no String method and logs
// and formats as "redacted".
type Passport struct {
	cfg     Config
	fs      *fileSystem
	mrzInfo []byte // BAC key input (9303-11 §9.7.2); nil on a PACE-only chip
	rand    io.Reader

	// PACE: the chip side, nil when the chip runs no PACE; the protocols
	// it runs; whether it has EF.CardAccess at all.
	pace        *pace.Card
	offers      []pace.Info
	paceOffered bool

	// Chip and Active Authentication (nil when the chip does not do them).
	ca    *CACard
	aaKey *AAKey

	mu          sync.Mutex
	df          dfID
	ef          *file     // current EF, nil when none
	bac         *bac.Card // BAC in progress: GET CHALLENGE answered
	paceStep    int       // PACE in progress: the GENERAL AUTHENTICATE step expected (1–4), or 0
	nextKeys    *sm.Keys  // CA done: the keys to switch to after this answer
	sess        *sm.Card  // secure messaging on
	suite       sm.Suite  // the cipher of sess
	stats       Stats
	served      int           // APDUs since the card was (re)inserted
	removeAfter int           // RemoveAfter, or 0 once disarmed by Reinsert
	removed     bool          // the card is out of the field
	gone        chan struct{} // closed on removal
}

// Stats counts what a [Passport] served since [New].
type Stats struct {
	// APDUs is the number of command APDUs answered.
	APDUs int64
	// BytesIn and BytesOut are the command and response APDU bytes, as
	// they crossed the (virtual) RF link, secure messaging included.
	BytesIn, BytesOut int64
}

var (
	_ icao.Transport = (*Passport)(nil)
	_ slog.LogValuer = (*Passport)(nil)
	_ fmt.Formatter  = (*Passport)(nil)
)

// LogValue keeps the chip's keys and files out of structured logs.
func (*Passport) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print the BAC key, the session keys or the files.
func (*Passport) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// New returns a chip serving ds, powered on with the master file selected.
// cfg nil means ds.Config. The chip keeps its own copy of the files and of
// the configuration. The BAC key comes from ds.MRZInformation, else from
// the MRZ in DG1; New fails when there is neither, unless cfg.NoBAC.
//
// The chip runs PACE (9303-11 §4.4) with the protocols its EF.CardAccess
// offers ([Passport.PACEInfos]), the MRZ password of the BAC key and
// ds.CAN; CAM needs ds.ChipKey. New fails on an invalid CAN or chip key.
func New(ds *Dataset, cfg *Config) (*Passport, error) {
	if ds == nil {
		return nil, errors.New("vchip: new: nil dataset")
	}
	if cfg == nil {
		cfg = &ds.Config
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("vchip: new: %w", err)
	}
	files := make(map[string][]byte, len(ds.Files))
	for name, data := range ds.Files {
		if _, ok := newFile(name, data); !ok {
			return nil, fmt.Errorf("vchip: new: %w: %q", ErrUnknownFile, name)
		}
		if len(data) > MaxFileSize {
			return nil, fmt.Errorf("vchip: new: %s: %w", name, ErrFileTooLarge)
		}
		files[name] = append([]byte(nil), data...)
	}
	p := &Passport{cfg: *cfg, fs: newFileSystem(files, cfg.atrInfo()), removeAfter: cfg.RemoveAfter, gone: make(chan struct{})}
	p.cfg.ATR = bytes.Clone(cfg.ATR)
	p.rand = cfg.Rand
	if p.rand == nil {
		p.rand = rand.Reader
	}
	key, err := ds.accessKey()
	if err != nil && !cfg.NoBAC {
		return nil, fmt.Errorf("vchip: new: %w", err)
	}
	p.mrzInfo = key
	if err := p.setupPACE(ds); err != nil {
		return nil, fmt.Errorf("vchip: new: %w", err)
	}
	if err := p.setupAuth(ds); err != nil {
		return nil, fmt.Errorf("vchip: new: %w", err)
	}
	return p, nil
}

// Transmit processes one command APDU and returns the response APDU (data
// followed by SW1 SW2). Chip-level failures are status words, never Go
// errors; the only errors are ctx's and [ErrRemoved]. [Config.Latency] is
// spent before the command is processed.
func (p *Passport) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	if err := p.wait(ctx); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed {
		return nil, ErrRemoved
	}
	p.stats.APDUs++
	p.stats.BytesIn += int64(len(capdu))
	resp := p.process(capdu)
	p.stats.BytesOut += int64(len(resp))
	if p.served++; p.removeAfter > 0 && p.served >= p.removeAfter {
		p.removeLocked()
	}
	return resp, nil
}

// wait spends the configured latency, or less if ctx ends first.
func (p *Passport) wait(ctx context.Context) error {
	if p.cfg.Latency <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(p.cfg.Latency)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Reset powers the chip off and on: the secure messaging session and any
// BAC in progress are lost and the master file is selected again. A removed
// card stays removed.
func (p *Passport) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetLocked()
}

// Reconnect resets the chip as a reader's SCardReconnect does; it fails
// with [ErrRemoved] when the card is not in the field.
func (p *Passport) Reconnect(context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.removed {
		return ErrRemoved
	}
	p.resetLocked()
	return nil
}

func (p *Passport) resetLocked() {
	p.dropSession()
	p.bac, p.paceStep = nil, 0
	p.df, p.ef = dfMF, nil
}

// Remove takes the card away now, as [Config.RemoveAfter] does: Transmit
// fails with [ErrRemoved] from then on and [Passport.Removed] is closed.
func (p *Passport) Remove() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removeLocked()
}

func (p *Passport) removeLocked() {
	if p.removed {
		return
	}
	p.resetLocked()
	p.removed = true
	close(p.gone)
}

// Removed returns a channel that is closed when the card is taken away.
// After [Passport.Reinsert] it returns a new channel.
func (p *Passport) Removed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gone
}

// Reinsert puts a removed card back into the field, powered up afresh and
// with [Config.RemoveAfter] disarmed: a traveller who lifted the passport
// puts it back and holds it still. It does nothing to a card in the field.
func (p *Passport) Reinsert() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.removed {
		return
	}
	p.resetLocked()
	p.removed, p.served, p.removeAfter = false, 0, 0
	p.gone = make(chan struct{})
}

// Stats returns the counters of what the chip has served.
func (p *Passport) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// ATR returns the answer to reset the chip presents through vpcd, or nil
// for the vpcd package's default.
func (p *Passport) ATR() []byte {
	return bytes.Clone(p.cfg.ATR)
}

// dropSession ends secure messaging and with it the access rights
// (9303-11 §9.8.6.1).
func (p *Passport) dropSession() {
	if p.sess != nil {
		p.sess.Close()
		p.sess, p.suite = nil, 0
	}
	if p.ca != nil {
		p.ca.Reset()
	}
	if p.nextKeys != nil {
		clear(p.nextKeys.Enc)
		clear(p.nextKeys.MAC)
		p.nextKeys = nil
	}
}
