package outbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
	"github.com/nfcbridge/nfcbridge/upload"
)

// File names: <id><ext>, where id is 32 lower-case hex digits.
const (
	extEntry = ".entry"     // the sealed item
	extState = ".state"     // attempts and next attempt; advisory
	extDone  = ".done"      // success record: never send the entry again
	extBad   = ".entry.bad" // a quarantined entry
	lockName = ".lock"
)

// scan is the directory's content, by kind, as sorted IDs.
type scan struct {
	entries, states, dones, bads, records []string
}

// load reads the directory left by a previous run into o.
func (o *Outbox) load() error {
	s, err := o.scan()
	if err != nil {
		return err
	}
	for _, id := range s.dones {
		o.loadDone(id)
	}
	entries := slices.Clone(s.entries)
	for _, id := range s.bads {
		restored, err := o.retryBad(id)
		if err != nil {
			return err
		}
		if restored {
			entries = append(entries, id)
		}
	}
	for _, id := range entries {
		if slices.Contains(s.dones, id) {
			continue
		}
		if err := o.loadEntry(id); err != nil {
			return err
		}
	}
	for _, id := range s.records {
		o.loadRecord(id)
	}
	var orphans []string
	for _, id := range s.states {
		if _, ok := o.entries[id]; !ok {
			orphans = append(orphans, id+extState)
		}
	}
	return removeFiles(o.dir, orphans...)
}

// scan lists the directory and removes temporary files left by a crash.
func (o *Outbox) scan() (scan, error) {
	des, err := os.ReadDir(o.dir)
	if err != nil {
		return scan{}, fmt.Errorf("outbox: %w", err)
	}
	var s scan
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, atomicfile.TempPrefix) {
			if err := os.Remove(filepath.Join(o.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return scan{}, fmt.Errorf("outbox: removing temporary file: %w", err)
			}
			continue
		}
		id, ext, ok := splitName(name)
		if !ok || !de.Type().IsRegular() {
			continue // not ours: left alone
		}
		switch ext {
		case extEntry:
			s.entries = append(s.entries, id)
		case extState:
			s.states = append(s.states, id)
		case extDone:
			s.dones = append(s.dones, id)
		case extBad:
			s.bads = append(s.bads, id)
		case extRecord:
			s.records = append(s.records, id)
		}
	}
	return s, nil
}

// splitName parses "<id><ext>".
func splitName(name string) (id, ext string, ok bool) {
	if len(name) < 32 || !validID(name[:32]) {
		return "", "", false
	}
	switch ext = name[32:]; ext {
	case extEntry, extState, extDone, extBad, extRecord:
		return name[:32], ext, true
	}
	return "", "", false
}

func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// loadDone finishes an entry whose delivery was recorded: it deletes the
// entry, and keeps the done marker until Run has reported it. The marker
// counts even if it cannot be read.
func (o *Outbox) loadDone(id string) {
	d := done{}
	if b, err := o.readSealed(id, kindDone, extDone); err == nil {
		if d, err = decodeDone(b); err != nil {
			d = done{}
		}
	}
	e := &entry{id: id, readID: d.readID, finished: true, state: state{next: o.now()}}
	o.entries[id] = e
	o.startup = append(o.startup, Event{Kind: Delivered, ID: id, ReadID: d.readID, Result: d.result})
	if err := removeFiles(o.dir, id+extEntry, id+extState); err != nil {
		e.next = o.now().Add(o.backoff.Initial) // Run retries
	}
}

// loadEntry loads the metadata of an entry and its retry state, or
// quarantines it.
func (o *Outbox) loadEntry(id string) error {
	it, err := o.readItem(id)
	if errors.Is(err, ErrCorrupt) {
		if qerr := o.quarantineFile(id); qerr != nil {
			return qerr
		}
		o.startup = append(o.startup, Event{Kind: Quarantined, ID: id, Err: err})
		return nil
	}
	if err != nil {
		return err
	}
	e := &entry{id: id, readID: it.ReadID, sessionID: it.SessionID, created: it.CreatedAt,
		summary: it.Summary, state: state{next: o.now()}}
	clearNFC(&it.NFC)
	if b, err := o.readSealed(id, kindState, extState); err == nil {
		if st, err := decodeState(b); err == nil {
			e.state = st
		}
	}
	if e.sending {
		// The process ended while an attempt had a connection to the
		// vendor, which may have stored the item and lost the answer.
		// The endpoint has no idempotency key: sending again could store
		// it twice, so the entry is reported failed, never sent again.
		e.finished = true
		o.startup = append(o.startup, Event{Kind: Failed, ID: id, ReadID: it.ReadID, Err: ErrUnconfirmed})
	}
	// A clock set back since the state was saved must not delay the
	// entry by more than one full wait.
	if latest := o.now().Add(o.backoff.Max); e.next.After(latest) {
		e.next = latest
	}
	o.entries[id] = e
	return nil
}

// retryBad looks at a quarantined entry again: it is restored if it now
// opens (the right key is back), deleted if older than the retention limit,
// else left alone.
func (o *Outbox) retryBad(id string) (restored bool, err error) {
	bad := filepath.Join(o.dir, id+extBad)
	b, err := readFile(bad)
	if err != nil {
		return false, err
	}
	plain, err := open(o.aead, kindEntry, id, b)
	if err == nil {
		_, err = decodeItem(plain)
		clear(plain)
	}
	if err == nil {
		if err := os.Rename(bad, filepath.Join(o.dir, id+extEntry)); err != nil {
			return false, fmt.Errorf("outbox: restoring quarantined entry: %w", err)
		}
		return true, nil
	}
	fi, err := os.Stat(bad)
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	if o.now().Sub(fi.ModTime()) < o.retention {
		return false, nil
	}
	if err := removeFiles(o.dir, id+extBad, id+extState); err != nil {
		return false, err
	}
	o.startup = append(o.startup, Event{Kind: Expired, ID: id, Err: ErrCorrupt})
	return false, nil
}

// quarantineFile renames an entry file to *.bad and drops its state.
func (o *Outbox) quarantineFile(id string) error {
	if err := os.Rename(filepath.Join(o.dir, id+extEntry), filepath.Join(o.dir, id+extBad)); err != nil {
		return fmt.Errorf("outbox: quarantining entry: %w", err)
	}
	return removeFiles(o.dir, id+extState)
}

// readItem reads and decodes an entry file. A file that does not open or
// decode is ErrCorrupt.
func (o *Outbox) readItem(id string) (Item, error) {
	plain, err := o.readSealed(id, kindEntry, extEntry)
	if err != nil {
		return Item{}, err
	}
	it, err := decodeItem(plain)
	if err != nil {
		clear(plain)
		return Item{}, err
	}
	return it, nil
}

// readSealed reads and opens the file id+ext of kind k.
func (o *Outbox) readSealed(id string, k kind, ext string) ([]byte, error) {
	b, err := readFile(filepath.Join(o.dir, id+ext))
	if err != nil {
		return nil, err
	}
	return open(o.aead, k, id, b)
}

// readFile reads a file of at most maxSealed bytes; a longer one is
// ErrCorrupt.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(maxSealed)+1))
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if len(b) > maxSealed {
		return nil, ErrCorrupt
	}
	return b, nil
}

// clearNFC overwrites the files in memory (best effort: copies made by
// others, such as the upload's request body, are not reached).
func clearNFC(n *upload.NFC) {
	clear(n.COM)
	clear(n.SOD)
	clear(n.DG1)
	clear(n.DG2)
}
