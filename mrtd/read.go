package mrtd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/activeauth"
	"github.com/nfcbridge/nfcbridge/bac"
	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/sm"
)

// Config tunes [Read]. The zero value reads EF.COM, EF.SOD, DG1 and DG2
// with the reading strategy real chips need.
type Config struct {
	// Files to read, in order. Nil means EF.COM, EF.SOD, DG1, DG2.
	Files []icao.EF
	// Read configures the file reader (Le, extended length). Its Chip and
	// ReaderMaxAPDU are filled in by the read: from EF.ATR/INFO and the
	// ATR, and from the reader.
	Read icao.ReadConfig
	// Learned is what an earlier read on the same reader learned
	// ([Document.Learned]); it applies only when the card presents the
	// same ATR. The zero value knows nothing.
	Learned Learned
	// Access selects PACE or BAC; the zero value follows 9303-11 §4.2.
	Access Access
	// BAC configures Basic Access Control (randomness).
	BAC bac.Config
	// PACE configures PACE (randomness).
	PACE pace.Config
	// ChipAuth configures Chip Authentication (randomness, command
	// sequence).
	ChipAuth chipauth.Config
	// ActiveAuth configures Active Authentication (randomness).
	ActiveAuth activeauth.Config
	// MaxReauth bounds how often a broken secure messaging session is
	// re-established to resume a read. Zero means 2; negative means never.
	MaxReauth int
	// OnStep, if set, is called when the read enters a step.
	OnStep func(Step)
	// Trust holds the CSCAs and CRLs of passive authentication; nil is
	// an empty store (every document is no_trust_anchor).
	Trust *pki.Store
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Document is what a read returns: the exact bytes of each file, parsed
// views of them and the integrity check against EF.SOD.
type Document struct {
	// Files holds each file's exact bytes (the whole TLV) as read.
	Files map[icao.EF][]byte
	// AccessControl is "PACE" or "BAC".
	AccessControl string
	// PACE says how PACE ran; nil after BAC.
	PACE *PACEDetails
	// FallbackReason says why BAC was used on a chip that offers PACE.
	FallbackReason string
	COM            *icao.COM
	SOD            *icao.SOD
	DG1            *icao.DG1
	DG2            *icao.DG2
	Stats          Stats
	// Length is the decision on extended-length READ BINARY and where it
	// came from.
	Length icao.LengthPlan
	// Chip is what the chip states about its buffers: EF.ATR/INFO when
	// present, else the card capabilities of the ATR.
	Chip icao.Capabilities
	// Learned is what this read learned about the reader and the chip,
	// for the next read on the same reader ([Config.Learned]).
	Learned Learned
	// Authenticity is the verdict of chip and active authentication. A
	// failed check is no read error: the files read are returned with it.
	Authenticity Authenticity

	// partial holds the bytes of files whose read was interrupted.
	partial map[icao.EF][]byte
	// absent holds the optional files the chip does not have.
	absent map[icao.EF]bool
}

// HashesValid reports whether every data group read matched EF.SOD.
func (d *Document) HashesValid() bool { return d.Authenticity.Passive.Hashes == Passed }

// issuingState is the MRZ's issuing State, fillers dropped; "" without
// DG1.
func (d *Document) issuingState() string {
	if d.DG1 == nil || d.DG1.MRZ == nil {
		return ""
	}
	return strings.TrimRight(d.DG1.MRZ.IssuingState, "<")
}

// Key opens the chip: the MRZ key (for BAC, and PACE with the MRZ), or the
// card access number printed on ID cards (PACE only).
type Key struct {
	MRZ icao.AccessKey
	CAN string
}

// LogValue keeps the key out of logs.
func (Key) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format keeps the key out of fmt output, %v and %+v included.
func (Key) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// Reconnector is implemented by cards that can reset the chip, which ends
// a broken secure messaging session on the chip side too.
type Reconnector interface {
	Reconnect(ctx context.Context) error
}

// Read reads the document on card with key. It needs nothing but a
// [icao.Transport]; the chip must already be powered and connected. On
// error the returned Document holds what was read so far: pass it to
// [Resume] to go on once the card is back.
func Read(ctx context.Context, card icao.Transport, key Key, cfg *Config) (*Document, error) {
	return Resume(ctx, card, key, nil, cfg)
}

// Resume continues an interrupted read of the same document on a new
// connection: it authenticates again, keeps the files already read and
// resumes the interrupted file at its offset. A different document would
// not authenticate with the same key, and the EF.SOD check at the end
// covers the rest.
func Resume(ctx context.Context, card icao.Transport, key Key, prev *Document, cfg *Config) (*Document, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	doc := prev
	if doc == nil {
		doc = &Document{Files: map[icao.EF][]byte{}}
	}
	if doc.partial == nil {
		doc.partial = map[icao.EF][]byte{}
	}
	if doc.absent == nil {
		doc.absent = map[icao.EF]bool{}
	}
	r := &run{cfg: cfg, key: key, doc: doc, raw: card}
	r.card = meter{t: card, stats: &doc.Stats}
	r.recall()
	start := r.now()
	err := r.readAll(ctx)
	doc.Stats.Elapsed += r.now().Sub(start)
	if err != nil {
		return doc, err
	}
	if err := doc.parse(); err != nil {
		return doc, err
	}
	opts := PassiveOptions{Trust: cfg.Trust, Now: cfg.Now}
	doc.Authenticity.Passive = CheckPassive(doc.Files, doc.issuingState(), opts)
	r.checkCAM()
	doc.Authenticity.Chip = Vouch(doc.Authenticity.Chip, doc.Files, doc.Authenticity.Passive, opts)
	return doc, nil
}

// LogValue keeps the files out of logs: only their sizes are shown.
func (d *Document) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("accessControl", d.AccessControl)}
	for f, b := range d.Files {
		attrs = append(attrs, slog.Int(f.String(), len(b)))
	}
	return slog.GroupValue(attrs...)
}

// Format keeps the files out of fmt output, %v and %+v included.
func (d *Document) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "mrtd.Document{%s, %d files, %d bytes}", d.AccessControl, len(d.Files), d.BytesRead())
}

// Clear overwrites the bytes of every file read, complete or interrupted,
// and drops them: call it once the document has been handed on.
func (d *Document) Clear() {
	for f, b := range d.Files {
		clear(b)
		delete(d.Files, f)
	}
	for f, b := range d.partial {
		clear(b)
		delete(d.partial, f)
	}
	d.COM, d.SOD, d.DG1, d.DG2 = nil, nil, nil, nil
}

// BytesRead returns how many bytes of files have been read so far,
// complete and interrupted files together.
func (d *Document) BytesRead() int {
	n := 0
	for _, b := range d.Files {
		n += len(b)
	}
	for _, b := range d.partial {
		n += len(b)
	}
	return n
}

// run is the state of one read.
type run struct {
	cfg     *Config
	key     Key
	doc     *Document
	raw     icao.Transport // the card as given
	card    meter          // the card, counted
	session *sm.Session
	fr      *icao.FileReader

	atr            []byte       // the card's ATR, nil when the card does not tell
	learned        Learned      // what earlier reads learned, for this ATR
	atrInfoRead    bool         // EF.ATR/INFO looked for
	noATRInfo      bool         // the chip has no EF.ATR/INFO
	mf             icao.Learned // what reading the MF files learned
	cardAccessRead bool
	// cardAccessDoubt: EF.CardAccess answered 6A82 by short EF identifier
	// on a chip not known to take them, so it may be there by FID.
	cardAccessDoubt bool
	pace            []pace.Info // supported PACE offers of EF.CardAccess
	paceFailed      bool        // PACE failed once: BAC from now on
	cam             *pace.CAM
}

func (r *run) now() time.Time {
	if r.cfg.Now != nil {
		return r.cfg.Now()
	}
	return time.Now()
}

// Step is a stage of a read that a UI shows.
type Step int

// The steps of a read, in order. A read resumed after the card came back
// goes through them again.
const (
	Authenticating Step = iota + 1 // BAC or PACE with the chip
	Reading                        // reading the files under secure messaging
)

// String is the step as the API and logs name it.
func (s Step) String() string {
	switch s {
	case Authenticating:
		return "authenticating"
	case Reading:
		return "reading"
	}
	return "unknown"
}

// MarshalText is String.
func (s Step) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (r *run) step(s Step) {
	if r.cfg.OnStep != nil {
		r.cfg.OnStep(s)
	}
}

// DefaultFiles returns the files a read takes when [Config.Files] is nil:
// EF.COM, EF.SOD, DG1 and DG2, what the vendor's endpoint needs. DG14 and
// DG15 are added when EF.COM lists them ([Read]).
func DefaultFiles() []icao.EF {
	return []icao.EF{icao.EFCOM, icao.EFSOD, icao.EFDG1, icao.EFDG2}
}

func (r *run) requested() []icao.EF {
	if r.cfg.Files != nil {
		return r.cfg.Files
	}
	return DefaultFiles()
}

// item is one step of the reading plan: a file, or a check.
type item struct {
	file  icao.EF
	check check
}

type check int

const (
	noCheck     check = iota
	checkChip         // Chip Authentication
	checkActive       // Active Authentication
)

// plan orders the read (9303-11 §7.2): EF.COM; DG14 when EF.COM lists it
// or PACE-CAM ran; Chip Authentication; the files asked for; DG15 when
// EF.COM lists it; Active Authentication. CA comes before the other
// files so that they travel under its keys and a clone shows before the
// long DG2; AA comes last, since it leaves the session as it is. The plan
// grows as EF.COM becomes known.
func (r *run) plan() []item {
	files := r.requested()
	var out []item
	if slices.Contains(files, icao.EFCOM) {
		out = append(out, item{file: icao.EFCOM})
	}
	dg14 := r.listed(14) || r.cam != nil
	if dg14 || slices.Contains(files, icao.EFDG14) {
		out = append(out, item{file: icao.EFDG14})
	}
	if dg14 || r.doc.Files[icao.EFCardSecurity] != nil {
		out = append(out, item{check: checkChip})
	}
	for _, f := range files {
		if f != icao.EFCOM && f != icao.EFDG14 && f != icao.EFDG15 {
			out = append(out, item{file: f})
		}
	}
	if r.listed(15) || slices.Contains(files, icao.EFDG15) {
		out = append(out, item{file: icao.EFDG15}, item{check: checkActive})
	}
	return out
}

// listed reports whether EF.COM, once read, lists data group n.
func (r *run) listed(n int) bool {
	com, err := icao.ParseCOM(r.doc.Files[icao.EFCOM])
	return err == nil && slices.Contains(com.DataGroups(), n)
}

// next returns the first step of the plan still to do.
func (r *run) next() (item, bool) {
	for _, it := range r.plan() {
		switch {
		case it.check == checkChip && !r.chipAuthDone():
		case it.check == checkActive && r.doc.Authenticity.Active.Outcome == "":
		case it.check == noCheck && r.doc.Files[it.file] == nil && !r.doc.absent[it.file]:
		default:
			continue
		}
		return it, true
	}
	return item{}, false
}

// do runs one step of the plan.
func (r *run) do(ctx context.Context, it item) error {
	switch it.check {
	case checkChip:
		return r.chipAuth(ctx)
	case checkActive:
		return r.activeAuth(ctx)
	}
	f := it.file
	data, err := r.readFile(ctx, r.fr, f, r.doc.partial[f])
	switch {
	case err == nil:
		r.doc.Files[f] = data
		delete(r.doc.partial, f)
	case errors.Is(err, icao.ErrNotFound) && !slices.Contains(r.requested(), f):
		// Added by the plan and absent after all: a PACE-CAM key may
		// live in EF.CardSecurity only, EF.COM may list what is not there.
		r.doc.absent[f] = true
		delete(r.doc.partial, f)
	default:
		r.doc.partial[f] = data
		return err
	}
	return nil
}

func (r *run) readAll(ctx context.Context) error {
	defer r.closeSession()
	if err := r.authenticate(ctx); err != nil {
		return err
	}
	readCfg := r.cfg.Read
	readCfg.Chip = r.doc.Chip
	if n, ok := r.card.maxAPDU(); ok {
		readCfg.ReaderMaxAPDU = n
	}
	readCfg.Learned = r.ldsLearned()
	r.fr = icao.NewFileReader(r.session, &readCfg)
	r.doc.Length = r.fr.Plan()
	defer r.remember()
	reauths := r.maxReauth()
	r.step(Reading)
	for {
		it, ok := r.next()
		if !ok {
			r.notOffered()
			return nil
		}
		err := r.do(ctx, it)
		if err == nil {
			err = r.reconsiderPACE(ctx)
		}
		if err == nil {
			continue
		}
		if !retryable(err) || reauths == 0 {
			return r.fail(it.String(), it.file, err)
		}
		reauths--
		if err := r.reauthenticate(ctx); err != nil {
			return err
		}
	}
}

// notOffered settles the checks the plan left out at the end of a read:
// EF.COM lists no DG14 (nor is there EF.CardSecurity) or no DG15.
func (r *run) notOffered() {
	if _, ok := r.doc.Files[icao.EFCOM]; !ok {
		return // not known: NotRun
	}
	a := &r.doc.Authenticity
	if a.Chip.Outcome == "" && r.cam == nil {
		a.Chip = ChipCheck{Outcome: NotOffered, KeyID: chipauth.NoKeyID}
	}
	if a.Active.Outcome == "" {
		a.Active = ActiveCheck{Outcome: NotOffered}
	}
}

// String names the step for errors: "read DG2", "chip authentication".
func (it item) String() string {
	switch it.check {
	case checkChip:
		return "chip authentication"
	case checkActive:
		return "active authentication"
	}
	return "read " + it.file.String()
}

// retryable reports a failure after which a new session can resume the
// read: secure messaging broke, or the reader could not carry an
// extended-length APDU (the file reader goes on with short ones).
func retryable(err error) bool {
	return errors.Is(err, icao.ErrSM) || errors.Is(err, icao.ErrReaderLimit)
}

func (r *run) maxReauth() int {
	switch {
	case r.cfg.MaxReauth < 0:
		return 0
	case r.cfg.MaxReauth == 0:
		return 2
	}
	return r.cfg.MaxReauth
}

func (r *run) readFile(ctx context.Context, fr *icao.FileReader, f icao.EF, partial []byte) ([]byte, error) {
	start := r.now()
	apdus := r.doc.Stats.APDUs
	data, err := fr.Read(ctx, f, partial)
	fs := FileStats{File: f, Size: len(data), APDUs: r.doc.Stats.APDUs - apdus, Elapsed: r.now().Sub(start)}
	if n := len(r.doc.Stats.Files); n > 0 && r.doc.Stats.Files[n-1].File == f {
		prev := r.doc.Stats.Files[n-1] // resumed: add up both parts
		fs.APDUs += prev.APDUs
		fs.Elapsed += prev.Elapsed
		r.doc.Stats.Files[n-1] = fs
	} else {
		r.doc.Stats.Files = append(r.doc.Stats.Files, fs)
	}
	return data, err
}

// reconsiderPACE moves a read that went BAC to PACE when the chip turns
// out to take no short EF identifiers: its 6A82 to EF.CardAccess by SFI
// said nothing then, so EF.CardAccess is looked for by FID (a reset) and
// access control runs again, with PACE when it is there. The files read
// so far stay: they are the same under either session.
func (r *run) reconsiderPACE(ctx context.Context) error {
	if !r.cardAccessDoubt || r.fr.Learned().SFI != icao.SupportRefused {
		return nil
	}
	if _, err := r.lookUpCardAccess(ctx); err != nil {
		return err
	}
	return r.resume(ctx)
}

// reauthenticate replaces a broken session: reset the chip if the card
// can, then select and authenticate again.
func (r *run) reauthenticate(ctx context.Context) error {
	if err := r.reset(ctx); err != nil {
		return err
	}
	return r.resume(ctx)
}

// resume authenticates again on a reset chip and goes on reading under
// the new session.
func (r *run) resume(ctx context.Context) error {
	if err := r.authenticate(ctx); err != nil {
		return err
	}
	r.fr.Transport = r.session
	r.step(Reading)
	return nil
}

func (r *run) closeSession() {
	if r.session != nil {
		r.session.Close()
		r.session = nil
	}
}

func (r *run) fail(step string, f icao.EF, err error) error {
	var class error
	switch {
	case errors.Is(err, icao.ErrReaderLimit):
		class = ErrReaderUnable
	case errors.Is(err, icao.ErrSM):
		class = ErrSecureMessaging
	case isChipStatus(err):
		class = ErrChip
	}
	return &Error{Class: class, Step: step, File: f, Err: err}
}
