package kiosk

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pki"
)

// State is where a read stands. The final states are Done, Failed and
// Canceled; a read goes from Queued to Done or Failed.
type State string

// States of a read, in the order a read goes through them.
const (
	WaitingForCard State = "waiting_for_card" // waiting for a passport on the reader (also after it was taken off mid-read)
	Authenticating State = "authenticating"   // BAC (or PACE) with the chip
	Reading        State = "reading"          // reading the files under secure messaging
	Uploading      State = "uploading"        // sending the files to the vendor
	Queued         State = "queued"           // stored encrypted in the outbox for a later upload
	Done           State = "done"
	Failed         State = "failed"
	Canceled       State = "canceled"
)

// Final reports whether no more changes follow s.
func (s State) Final() bool { return s == Done || s == Failed || s == Canceled }

// Status is the public view of a read, as GET /v1/reads/{id} and every
// server-sent event carry it. It holds no personal data: sizes, checks,
// counts and the vendor's media object.
type Status struct {
	ID        string    `json:"id"`
	State     State     `json:"state"`
	SessionID string    `json:"sessionId"`
	Reader    string    `json:"reader,omitempty"`
	Upload    bool      `json:"upload"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Resumes counts how often the passport was taken off the reader and
	// put back during the read; a UI showing waiting_for_card with
	// resumes > 0 asks to put the passport back.
	Resumes  int      `json:"resumes"`
	Progress Progress `json:"progress"`
	Result   *Result  `json:"result,omitempty"`
	Error    *Error   `json:"error,omitempty"`
}

// Progress is how far the reading of the chip has come, for a progress bar.
// Sizes come from each file's header as the read goes, so BytesTotal counts
// the declared size of every file reached so far plus a typical size for
// the files not reached yet; it is exact once the last file has begun.
// Percent never goes backwards and reaches 100 when the chip is read.
type Progress struct {
	File       string `json:"file"` // the file being read: "EF.COM", "EF.SOD", "DG1", "DG2"; "" before the first
	BytesRead  int    `json:"bytesRead"`
	BytesTotal int    `json:"bytesTotal"`
	Percent    int    `json:"percent"`
}

// Result is what a successful read produced: no file contents, only their
// sizes, the integrity check and the vendor's record of the upload.
type Result struct {
	AccessControl  string              `json:"accessControl"` // as mrtd.Document reports it: "BAC", "PACE" …
	Files          map[string]FileInfo `json:"files"`         // "com", "sod", "dg1", "dg2"
	SODHashesValid bool                `json:"sodHashesValid"`
	// SODSignature is passive authentication's status: EF.SOD's signature
	// and its chain to a CSCA of the trust store (valid, invalid,
	// no_trust_anchor, expired, revoked, …).
	SODSignature pki.Status `json:"sodSignature,omitempty"`
	// Authenticity is every verdict: passive, chip and active
	// authentication, as package mrtd decides them.
	Authenticity *mrtd.Authenticity `json:"authenticity,omitempty"`
	// PACE says how PACE ran (protocol, mapping, cipher, domain parameters,
	// password, chip authentication); absent after BAC.
	PACE         *mrtd.PACEDetails `json:"pace,omitempty"`
	APDUs        int               `json:"apdus"`
	ReadMillis   int64             `json:"readMs"`
	UploadMillis int64             `json:"uploadMs,omitempty"`
	// Media is the vendor's media object, exactly as the vendor sent it;
	// absent until the upload is done and for reads without upload.
	Media json.RawMessage `json:"media,omitempty"`
}

// FileInfo describes one file read.
type FileInfo struct {
	Size int `json:"size"`
}

// newResult summarises doc without keeping any of its bytes.
func newResult(doc *mrtd.Document) *Result {
	r := &Result{
		AccessControl:  doc.AccessControl,
		Files:          map[string]FileInfo{},
		SODHashesValid: doc.HashesValid(),
		SODSignature:   doc.Authenticity.Passive.Status,
		Authenticity:   &doc.Authenticity,
		PACE:           doc.PACE,
		APDUs:          doc.Stats.APDUs,
		ReadMillis:     doc.Stats.Elapsed.Milliseconds(),
	}
	for f, b := range doc.Files {
		r.Files[fileKey(f)] = FileInfo{Size: len(b)}
	}
	return r
}

// fileKey is the API's name of a file: "com", "sod", "dg1" … (the vendor's
// names for the same files).
func fileKey(f icao.EF) string {
	return strings.ToLower(strings.TrimPrefix(f.String(), "EF."))
}

// typicalSize is what a file not reached yet is assumed to hold, for the
// progress bar: EF.COM and DG1 have fixed layouts, EF.SOD holds a
// certificate and a signature, and faces average 13.6 KB (BSI BioP II
// study, 2005) in files up to about 26 KB.
func typicalSize(f icao.EF) int {
	switch f {
	case icao.EFCOM:
		return 30
	case icao.EFSOD:
		return 1900
	case icao.EFDG1:
		return 93
	case icao.EFDG2:
		return 15000
	}
	return 1000
}

// meter turns the file reader's per-chunk reports into a Progress. Files
// are read in order; a report for a file means the ones before it are
// complete (files read in one chunk are never reported).
type meter struct {
	files []icao.EF
	size  map[icao.EF]int // declared sizes, or bytes read of completed files
	done  map[icao.EF]int
	pct   int
}

func newMeter(files []icao.EF) *meter {
	return &meter{files: files, size: map[icao.EF]int{}, done: map[icao.EF]int{}}
}

// report records that done of total bytes of f were read (total -1 while
// unknown) and returns the new progress.
func (m *meter) report(f icao.EF, done, total int) Progress {
	for _, g := range m.files {
		if g == f {
			break
		}
		if _, ok := m.size[g]; !ok || m.done[g] < m.size[g] {
			n := max(m.done[g], m.size[g])
			if n == 0 {
				n = typicalSize(g)
			}
			m.size[g], m.done[g] = n, n
		}
	}
	if total >= 0 {
		m.size[f] = total
	}
	m.done[f] = done
	return m.progress(f.String(), false)
}

// complete records the read as finished with the files' real sizes.
func (m *meter) complete(doc *mrtd.Document) Progress {
	for f, b := range doc.Files {
		m.size[f], m.done[f] = len(b), len(b)
	}
	last := ""
	if n := len(m.files); n > 0 {
		last = m.files[n-1].String()
	}
	return m.progress(last, true)
}

func (m *meter) progress(file string, complete bool) Progress {
	read, total := 0, 0
	for _, f := range m.files {
		read += m.done[f]
		if n, ok := m.size[f]; ok {
			total += max(n, m.done[f])
		} else {
			total += max(typicalSize(f), m.done[f])
		}
	}
	pct := 100
	if !complete {
		pct = 99
		if total > 0 {
			pct = min(99, read*100/total)
		}
	}
	m.pct = max(m.pct, pct)
	return Progress{File: file, BytesRead: read, BytesTotal: total, Percent: m.pct}
}
