package mrtd

import (
	"context"
	"fmt"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
)

// Stats measure a read at the APDU level, below secure messaging: what
// actually crossed the reader.
type Stats struct {
	APDUs         int
	BytesSent     int
	BytesReceived int
	Elapsed       time.Duration
	Files         []FileStats
}

// FileStats measure the reading of one file.
type FileStats struct {
	File    icao.EF
	Size    int
	APDUs   int
	Elapsed time.Duration
}

// Link rates of ISO/IEC 14443 in bit/s.
const (
	Rate106 = 106_000
	Rate212 = 212_000
	Rate424 = 424_000
	Rate848 = 848_000
)

// ModeledTime estimates how long the same exchange takes on a real reader:
// a fixed cost per APDU (PC/SC, USB and chip processing; 4–9 ms measured in
// the field, the log in gmrtd/gmrtd#6) plus every byte at the contactless
// bit rate of ISO/IEC 14443 (106 to 848 kbit/s).
func (s Stats) ModeledTime(perAPDU time.Duration, bitRate int) time.Duration {
	bits := int64(s.BytesSent+s.BytesReceived) * 8
	return time.Duration(s.APDUs)*perAPDU + time.Duration(bits*int64(time.Second)/int64(bitRate))
}

// meter is a Transport that counts what passes through it.
type meter struct {
	t     icao.Transport
	stats *Stats
}

func (m meter) Transmit(ctx context.Context, capdu []byte) ([]byte, error) {
	m.stats.APDUs++
	m.stats.BytesSent += len(capdu)
	r, err := m.t.Transmit(ctx, capdu)
	m.stats.BytesReceived += len(r)
	if err != nil && ctx.Err() == nil && icao.IsExtended(capdu) {
		// The exchange failed in the reader, not with a status word: an
		// extended APDU is the likely cause (the card may also be gone,
		// which re-authentication will tell).
		err = fmt.Errorf("%w: %w", icao.ErrReaderLimit, err)
	}
	return r, err
}

// MaxAPDU passes the reader's limit through, so that extended length is
// only tried where the reader can carry it.
func (m meter) maxAPDU() (int, bool) {
	if l, ok := m.t.(apduLimiter); ok {
		return l.MaxAPDU()
	}
	return 0, false
}

// apduLimiter is implemented by reader.Card: the largest APDU the reader
// says it carries.
type apduLimiter interface {
	MaxAPDU() (int, bool)
}
