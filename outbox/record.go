package outbox

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
)

// extRecord names record files: <hash of the read ID>.read.
const extRecord = ".read"

// Record is what a caller keeps about a read across restarts, sealed in
// the outbox directory next to the entries: for the kiosk service, a
// read's status and result summary, which hold no personal data but are
// the proof that a read was accepted and how it ended. The outbox does
// not interpret Data.
type Record struct {
	ReadID string
	Data   []byte
}

// recordID is the file ID of the record of readID: any read ID maps to 32
// hex digits, so it never needs escaping in a file name.
func recordID(readID string) string {
	sum := sha256.Sum256([]byte(readID))
	return hex.EncodeToString(sum[:16])
}

// SaveRecord replaces the record of readID with data, durably: when it
// returns nil, the record survives any crash.
func (o *Outbox) SaveRecord(readID string, data []byte) error {
	if readID == "" {
		return errors.New("outbox: record without a read ID")
	}
	plain, err := encodeRecord(readID, data)
	if err != nil {
		return err
	}
	id := recordID(readID)
	sealed, err := seal(o.aead, o.rand, kindRecord, id, plain)
	if err != nil {
		return err
	}
	return writeFile(o.dir, id+extRecord, sealed)
}

// DeleteRecord removes the record of readID; a missing one is not an
// error.
func (o *Outbox) DeleteRecord(readID string) error {
	return removeFiles(o.dir, recordID(readID)+extRecord)
}

// Records returns the records found by [Open], in no particular order. A
// record that does not open (another key, damage) is left on disk and not
// returned.
func (o *Outbox) Records() []Record {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.records)
}

// Known reports whether the outbox holds an entry of readID, queued or
// finished but not yet reported by [Outbox.Run] (a delivery recorded
// before a crash is reported again by the next Run).
func (o *Outbox) Known(readID string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, e := range o.entries {
		if e.readID == readID {
			return true
		}
	}
	return false
}

// loadRecord reads the record file id into o.records. One that does not
// open is skipped: a record is never worth failing Open for.
func (o *Outbox) loadRecord(id string) {
	plain, err := o.readSealed(id, kindRecord, extRecord)
	if err != nil {
		return
	}
	r, err := decodeRecord(plain)
	if err != nil || recordID(r.ReadID) != id {
		return
	}
	o.records = append(o.records, r)
}
