package mrtd

import (
	"bytes"
	"context"
	"errors"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Learned is what a read learned about a reader and the chip in it: the
// short Le the chip settled on, whether it takes short EF identifiers,
// whether extended-length READ BINARY failed, and whether it has no
// EF.ATR/INFO. The daemon passes it to the next read on the same reader
// ([Config.Learned]), which then pays no probing. It holds no personal
// data: chips of one model present one ATR, so the ATR is the key.
//
// Only what is safe to assume of another chip with the same ATR is kept:
// a wrong guess costs speed, never a failed read. A chip that states its
// buffer sizes is asked again every time (9303-11 §9.3.1.2 wants the
// chip's own statement), and PACE support is always looked up.
type Learned struct {
	// ATR is the answer to reset of the card the rest was learned from.
	ATR []byte `json:"atr,omitempty"`
	// MaxLe is the short Le the chip settled on: the most it served
	// before refusing (or cutting short) more, or the largest short Le
	// there is; zero when the read did not get that far.
	MaxLe int `json:"maxLe,omitempty"`
	// NoSFI: the chip refused READ BINARY with a short EF identifier.
	NoSFI bool `json:"noSFI,omitempty"`
	// NoExtended: extended-length READ BINARY failed although the chip
	// stated its buffer sizes.
	NoExtended bool `json:"noExtended,omitempty"`
	// NoATRInfo: the chip has no EF.ATR/INFO (it answered 6A82).
	NoATRInfo bool `json:"noATRInfo,omitempty"`
}

// atrReader is implemented by reader.Card and the virtual chip: the
// card's answer to reset.
type atrReader interface {
	ATR() []byte
}

// known reports whether l holds anything.
func (l Learned) known() bool {
	return l.MaxLe > 0 || l.NoSFI || l.NoExtended || l.NoATRInfo
}

// recall takes the card's ATR and what earlier reads learned about a card
// presenting it: an interrupted read's own findings when resuming, else
// the configuration's.
func (r *run) recall() {
	if c, ok := r.raw.(atrReader); ok {
		r.atr = c.ATR()
	}
	for _, l := range []Learned{r.cfg.Learned, r.doc.Learned} {
		if l.known() && bytes.Equal(l.ATR, r.atr) {
			r.learned = l
		}
	}
}

// discoverATRInfo reads EF.ATR/INFO in plain from the master file, once
// per read, before the application is selected (9303-10 §3.11.1), and
// takes the card capabilities of the ATR. Absent (6A82) is normal, and
// no answer stops the read: without stated sizes the read uses short
// APDUs.
func (r *run) discoverATRInfo(ctx context.Context) {
	if r.atrInfoRead {
		return
	}
	r.atrInfoRead = true
	if caps, err := icao.ParseATR(r.atr); err == nil {
		r.doc.Chip = caps
	}
	r.mf = icao.Learned{MaxLe: r.learned.MaxLe}
	if r.learned.NoSFI {
		r.mf.SFI = icao.SupportRefused
	}
	if r.learned.NoATRInfo {
		r.noATRInfo = true
		return
	}
	fr := icao.NewFileReader(r.card, &icao.ReadConfig{Extended: icao.ExtendedNever, MaxFileSize: 4 << 10, Learned: r.mf})
	b, err := fr.Read(ctx, icao.EFATRInfo, nil)
	r.mf = fr.Learned()
	if err != nil {
		r.noATRInfo = errors.Is(err, icao.ErrNotFound)
		return
	}
	if caps, err := icao.ParseATRInfo(b); err == nil {
		if caps.Tables == nil {
			caps.Tables = r.doc.Chip.Tables
		}
		r.doc.Chip = caps
	}
}

// ldsLearned is where the reader of the LDS files starts: what the MF
// reads of this chip found, and what earlier reads found.
func (r *run) ldsLearned() icao.Learned {
	l := r.mf
	if r.learned.NoExtended {
		l.Extended = icao.SupportRefused
	}
	return l
}

// remember records what the read learned, for [Document.Learned].
func (r *run) remember() {
	fl := r.fr.Learned()
	r.doc.Learned = Learned{
		ATR:        r.atr,
		MaxLe:      fl.MaxLe,
		NoSFI:      fl.SFI == icao.SupportRefused,
		NoExtended: fl.Extended == icao.SupportRefused && r.doc.Length.Source != icao.LengthOverride,
		NoATRInfo:  r.noATRInfo,
	}
}
