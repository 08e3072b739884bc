package outbox

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// On disk, every file of an entry is
//
//	magic "NBOX" | version 1 | kind | nonce (12) | AES-256-GCM(plaintext) with tag (16)
//
// sealed with the additional data magic | version | kind | ID, where ID is
// the entry's 32 lower-case hex digits. The plaintexts are
//
//	entry ('E'): created (int64 Unix ns) | read ID | session ID | COM | SOD | DG1 | DG2 | summary
//	state ('S'): attempts (uint32) | next attempt (int64 Unix ns) | flags (1 byte)
//	done  ('D'): read ID | result
//	record ('R'): read ID | data
//
// The summary of an entry and the flags of a state were added later: an
// entry without a summary and a state without flags still open. Flag 1 of
// a state means an attempt was sending (see [Outbox.Run]).
//
// where every variable field is a uint32 length then its bytes, and all
// integers are big-endian.
const (
	magic      = "NBOX"
	version    = 1
	headerLen  = len(magic) + 2
	nonceLen   = 12
	tagLen     = 16
	overhead   = headerLen + nonceLen + tagLen
	maxIDField = 1 << 10  // read and session IDs
	maxFile    = 16 << 20 // one NFC file
	maxSummary = 1 << 20  // an entry's summary, a record's data
	maxSealed  = 4*maxFile + 2*maxIDField + maxSummary + 64 + overhead
)

// kind tells which file of an entry a sealed file is.
type kind byte

const (
	kindEntry  kind = 'E'
	kindState  kind = 'S'
	kindDone   kind = 'D'
	kindRecord kind = 'R'
)

// ErrCorrupt means a file of the outbox cannot be opened or decoded: a wrong
// key, a truncated or altered file. The file is quarantined.
var ErrCorrupt = errors.New("outbox: entry file corrupt or sealed with another key")

// newAEAD returns AES-256-GCM under key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("outbox: key is %d bytes, want %d: %w", len(key), KeySize, ErrKey)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return cipher.NewGCM(block)
}

func header(k kind) []byte { return []byte{'N', 'B', 'O', 'X', version, byte(k)} }

func additionalData(k kind, id string) []byte { return append(header(k), id...) }

// seal encrypts plaintext as the file of kind k of entry id.
func seal(aead cipher.AEAD, rnd io.Reader, k kind, id string, plaintext []byte) ([]byte, error) {
	out := make([]byte, headerLen+nonceLen, headerLen+nonceLen+len(plaintext)+tagLen)
	copy(out, header(k))
	nonce := out[headerLen:]
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("outbox: reading random nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, additionalData(k, id)), nil
}

// open decrypts the file b of kind k of entry id; any failure is ErrCorrupt.
func open(aead cipher.AEAD, k kind, id string, b []byte) ([]byte, error) {
	if len(b) < overhead || len(b) > maxSealed || string(b[:headerLen]) != string(header(k)) {
		return nil, ErrCorrupt
	}
	nonce := b[headerLen : headerLen+nonceLen]
	plain, err := aead.Open(nil, nonce, b[headerLen+nonceLen:], additionalData(k, id))
	if err != nil {
		return nil, ErrCorrupt
	}
	return plain, nil
}

// encodeItem is the entry plaintext of it.
func encodeItem(it Item) ([]byte, error) {
	if len(it.ReadID) > maxIDField || len(it.SessionID) > maxIDField {
		return nil, fmt.Errorf("outbox: read or session ID longer than %d bytes", maxIDField)
	}
	if len(it.Summary) > maxSummary {
		return nil, fmt.Errorf("outbox: summary of %d bytes, limit %d", len(it.Summary), maxSummary)
	}
	n := it.NFC
	for _, f := range [][]byte{n.COM, n.SOD, n.DG1, n.DG2} {
		if len(f) > maxFile {
			return nil, fmt.Errorf("outbox: NFC file of %d bytes, limit %d", len(f), maxFile)
		}
	}
	b := make([]byte, 0, 8+6*4+len(it.ReadID)+len(it.SessionID)+len(n.COM)+len(n.SOD)+len(n.DG1)+len(n.DG2))
	b = binary.BigEndian.AppendUint64(b, uint64(it.CreatedAt.UnixNano()))
	b = appendField(b, []byte(it.ReadID))
	b = appendField(b, []byte(it.SessionID))
	for _, f := range [][]byte{n.COM, n.SOD, n.DG1, n.DG2} {
		b = appendField(b, f)
	}
	return appendField(b, it.Summary), nil
}

// decodeItem parses an entry plaintext. It is strict: every field within
// its limit, no trailing bytes.
func decodeItem(b []byte) (Item, error) {
	if len(b) < 8 {
		return Item{}, ErrCorrupt
	}
	var it Item
	it.CreatedAt = time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	d := decoder{rest: b[8:]}
	it.ReadID = string(d.field(maxIDField))
	it.SessionID = string(d.field(maxIDField))
	it.NFC.COM = d.field(maxFile)
	it.NFC.SOD = d.field(maxFile)
	it.NFC.DG1 = d.field(maxFile)
	it.NFC.DG2 = d.field(maxFile)
	if len(d.rest) > 0 {
		it.Summary = d.field(maxSummary)
	}
	if d.bad || len(d.rest) != 0 {
		return Item{}, ErrCorrupt
	}
	return it, nil
}

// state is the retry state of an entry.
type state struct {
	attempts int
	next     time.Time
	// sending means an attempt had a connection to the vendor: after a
	// crash, the vendor may have the item.
	sending bool
}

const flagSending = 1

func encodeState(s state) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(min(s.attempts, 1<<31-1)))
	b = binary.BigEndian.AppendUint64(b, uint64(s.next.UnixNano()))
	var flags byte
	if s.sending {
		flags |= flagSending
	}
	return append(b, flags)
}

func decodeState(b []byte) (state, error) {
	if len(b) != 12 && len(b) != 13 {
		return state{}, ErrCorrupt
	}
	n := binary.BigEndian.Uint32(b)
	if n > 1<<31-1 {
		return state{}, ErrCorrupt
	}
	st := state{attempts: int(n), next: time.Unix(0, int64(binary.BigEndian.Uint64(b[4:])))}
	if len(b) == 13 {
		if b[12]&^flagSending != 0 {
			return state{}, ErrCorrupt
		}
		st.sending = b[12]&flagSending != 0
	}
	return st, nil
}

// encodeRecord is the record plaintext of a read's data.
func encodeRecord(readID string, data []byte) ([]byte, error) {
	if len(readID) > maxIDField || len(data) > maxSummary {
		return nil, fmt.Errorf("outbox: record of %d bytes, limit %d", len(data), maxSummary)
	}
	return appendField(appendField(nil, []byte(readID)), data), nil
}

func decodeRecord(b []byte) (Record, error) {
	d := decoder{rest: b}
	readID := d.field(maxIDField)
	data := d.field(maxSummary)
	if d.bad || len(d.rest) != 0 || len(readID) == 0 {
		return Record{}, ErrCorrupt
	}
	return Record{ReadID: string(readID), Data: data}, nil
}

// done is the success record of an entry.
type done struct {
	readID string
	result []byte
}

func encodeDone(d done) []byte {
	readID := d.readID
	if len(readID) > maxIDField {
		readID = readID[:maxIDField]
	}
	return appendField(appendField(nil, []byte(readID)), d.result)
}

func decodeDone(b []byte) (done, error) {
	d := decoder{rest: b}
	readID := d.field(maxIDField)
	result := d.field(maxFile)
	if d.bad || len(d.rest) != 0 {
		return done{}, ErrCorrupt
	}
	return done{readID: string(readID), result: result}, nil
}

func appendField(b, f []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
	return append(b, f...)
}

// decoder reads length-prefixed fields; after the first error it returns
// nil and sets bad.
type decoder struct {
	rest []byte
	bad  bool
}

func (d *decoder) field(limit int) []byte {
	if d.bad || len(d.rest) < 4 {
		d.bad = true
		return nil
	}
	n := binary.BigEndian.Uint32(d.rest)
	if uint64(n) > uint64(limit) || uint64(n) > uint64(len(d.rest)-4) {
		d.bad = true
		return nil
	}
	f := d.rest[4 : 4+n : 4+n]
	d.rest = d.rest[4+n:]
	if n == 0 {
		return nil
	}
	return f
}
