package icao

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// ReadConfig tunes how [FileReader] reads. The zero value is what real
// chips and readers need (9303-11 §9.3.1.2; gmrtd/gmrtd#410, #457).
type ReadConfig struct {
	// MaxLe caps the Le of a short READ BINARY. Zero means the largest Le
	// whose response still fits a short response APDU: the transport's
	// [LeLimiter] value under secure messaging (231 for 3DES, 223 for AES),
	// else 256.
	MaxLe int
	// Extended selects whether extended-length READ BINARY may be used;
	// see [ReadConfig.Plan].
	Extended ExtendedMode
	// ExtendedLe is the Le of an extended READ BINARY under
	// [ExtendedAlways] when the chip states no buffer sizes. Zero means
	// 4096.
	ExtendedLe int
	// Chip is what the chip states about its buffers (EF.ATR/INFO, ATR).
	Chip Capabilities
	// ReaderMaxAPDU is the longest command APDU the reader carries, zero
	// when it does not say.
	ReaderMaxAPDU int
	// MaxFileSize rejects files whose header declares more bytes. Zero
	// means 1 MiB, far above any LDS file seen in the field.
	MaxFileSize int
	// NoShortEF makes the reader select files by FID instead of reading
	// them by short EF identifier.
	NoShortEF bool
	// Learned is what an earlier reader learned about the same chip (see
	// [FileReader.Learned]): the reader starts from it instead of probing.
	Learned Learned
	// Progress, if set, is called after every chunk with the bytes of f
	// read so far and the file's total size (-1 while unknown).
	Progress func(f EF, done, total int)
}

// ExtendedMode says when extended-length APDUs are used.
type ExtendedMode int

// Extended-length policies for READ BINARY. ExtendedAuto follows 9303-11
// §9.3.1.2: extended length only where the chip states its buffer sizes.
const (
	ExtendedAuto ExtendedMode = iota
	ExtendedNever
	ExtendedAlways
)

// LengthPlan is the decision on READ BINARY lengths for one chip.
type LengthPlan struct {
	// Source says where the decision came from.
	Source LengthSource `json:"source"`
	// Response is the largest response APDU (data and SW1 SW2) a READ
	// BINARY asks for, from the chip's stated buffer; zero when it
	// stated none.
	Response int `json:"response,omitempty"`
	// Le is the Ne of an extended READ BINARY when Response is zero.
	Le int `json:"le,omitempty"`
}

// Extended reports whether the plan uses extended-length READ BINARY.
func (p LengthPlan) Extended() bool { return p.Response > 0 || p.Le > 0 }

// minExtendedReader is the smallest reader limit at which extended APDUs
// are worth trying: a protected short APDU is up to 261 bytes plus SM
// overhead; readers at the CCID "Short APDU" level stop there.
const minExtendedReader = 261 + 16

// Plan decides, in one place, whether READ BINARY uses extended length
// and how much it asks for. 9303-11 §9.3.1.2 (and 9303-10 §3.6.4.2):
// "The terminal MUST NOT use extended length for APDUs other than
// [MSE:Set KAT, GENERAL AUTHENTICATE] unless the exact input and output
// buffer sizes of the eMRTD chip are explicitly stated in the ATR/ATS or
// in EF.ATR/INFO." So: ExtendedNever, a short-APDU reader, or a chip that
// refused before means short APDUs; ExtendedAlways is the operator's
// override; otherwise extended length only with stated sizes, and then as
// much as the stated response buffer holds.
func (c *ReadConfig) Plan() LengthPlan {
	stated := c.Chip.Stated() && c.Chip.Buffers.Response > MaxShortNe+2
	response := c.Chip.Buffers.Response
	if c.ReaderMaxAPDU > 0 {
		response = min(response, c.ReaderMaxAPDU)
	}
	switch {
	case c.Extended == ExtendedNever:
		return LengthPlan{Source: LengthNone}
	case c.Extended == ExtendedAlways && stated:
		return LengthPlan{Source: LengthOverride, Response: response}
	case c.Extended == ExtendedAlways:
		return LengthPlan{Source: LengthOverride, Le: cmp.Or(c.ExtendedLe, defaultExtendedLe)}
	case c.ReaderMaxAPDU > 0 && c.ReaderMaxAPDU < minExtendedReader:
		return LengthPlan{Source: LengthReader}
	case stated && c.Learned.Extended == SupportRefused:
		return LengthPlan{Source: LengthLearned}
	case stated:
		return LengthPlan{Source: c.Chip.Source, Response: response}
	}
	return LengthPlan{Source: LengthNone}
}

// Support says whether a chip takes a way of reading.
type Support int8

// Support states.
const (
	SupportUnknown Support = iota // not tried
	SupportWorks                  // worked
	SupportRefused                // refused
)

// String names the state.
func (s Support) String() string {
	switch s {
	case SupportWorks:
		return "works"
	case SupportRefused:
		return "refused"
	}
	return "unknown"
}

// MarshalText encodes the state as its name.
func (s Support) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Learned is what a [FileReader] learned about a chip (and the reader in
// between) while reading, so that another reader of the same chip starts
// where it left off instead of probing again.
type Learned struct {
	// MaxLe is the short Le the chip settled on: the most it served
	// before it refused (or cut short) a larger one, or the largest short
	// Le there is when it served that; zero while unknown.
	MaxLe int `json:"maxLe,omitempty"`
	// SFI says whether READ BINARY with a short EF identifier worked.
	SFI Support `json:"sfi"`
	// Extended says whether extended-length READ BINARY worked.
	Extended Support `json:"extended"`
}

// Limits used when the configuration leaves them at zero.
const (
	defaultExtendedLe  = 4096
	defaultMaxFileSize = 1 << 20
	minLe              = 8 // below this, give up shrinking
	maxB0Offset        = 0x7FFF
	maxSFIOffset       = 0xFF // P2 of READ BINARY with an SFI in P1
)

// Errors from [FileReader.Read] besides transport and status word errors.
var (
	ErrFileTooLarge = errors.New("icao: file larger than the configured limit")
	ErrBadResponse  = errors.New("icao: chip sent a response that does not fit the request")
	// ErrReaderLimit is wrapped by a transport error that came from an
	// extended-length exchange: readers at the CCID "Short APDU" level
	// (ACR122U) cannot carry them and fail the exchange rather than
	// answering with a status word (acshk/acsccid#42). After it the reader
	// stays with short APDUs.
	ErrReaderLimit = errors.New("icao: the reader cannot carry extended-length APDUs")
)

// FileReader reads elementary files with READ BINARY. The first READ
// BINARY of a file asks for as much as the chip is known to serve in one
// APDU ([ReadConfig.Plan]; Le 128 with short APDUs until the chip's limit
// is known), so that a short file comes whole in one exchange. It learns
// the chip's limits as it goes: with short APDUs it climbs one Le rung at
// a time where a file has the bytes to tell, settles below a refusal
// (6700/6Cxx/6B00) or at what the chip cut a read to (6282), prefers short
// EF identifiers and remembers when the chip refuses them, and uses the
// odd-INS READ BINARY (B1, DO'54') for offsets above 32767 (9303-10
// §3.5.2). A FileReader is not safe for concurrent use.
type FileReader struct {
	// Transport is the channel to the chip, usually a secure messaging
	// session. It may be replaced between reads, for example after the
	// caller has re-authenticated.
	Transport Transport
	cfg       ReadConfig
	plan      LengthPlan
	le        int  // current short Le, 0 until first use
	settled   bool // le is the chip's limit: it refused more, or le is the top
	exactHint int  // a 6Cxx answer's length, until the file size tells whether it was a limit
	short     bool // the last chunk was shorter than asked for: the end of the file
	sfi       Support
	ext       Support
}

// NewFileReader returns a reader over t. cfg may be nil.
func NewFileReader(t Transport, cfg *ReadConfig) *FileReader {
	r := &FileReader{Transport: t}
	if cfg != nil {
		r.cfg = *cfg
	}
	r.plan = r.cfg.Plan()
	r.sfi = r.cfg.Learned.SFI
	if r.cfg.NoShortEF {
		r.sfi = SupportRefused
	}
	if r.plan.Source != LengthOverride {
		r.ext = r.cfg.Learned.Extended // the operator's override tries again
	}
	if l := r.cfg.Learned.MaxLe; l > 0 {
		r.le, r.settled = min(max(l, minLe), r.topLe()), true
	}
	return r
}

// Plan returns the length decision the reader follows.
func (r *FileReader) Plan() LengthPlan { return r.plan }

// Learned returns what the reader has learned about the chip so far,
// including what it was given in [ReadConfig.Learned].
func (r *FileReader) Learned() Learned {
	l := Learned{SFI: r.sfi, Extended: r.ext}
	if r.settled {
		l.MaxLe = r.le
	}
	return l
}

// Size markers of a file being read.
const (
	sizeIndefinite = -1 // the TLV has an indefinite length: read until it is complete
	sizeUnknown    = -2 // no byte read yet
	sizeToEnd      = -3 // not one TLV (EF.ATR/INFO): read until the chip says the file ends
)

// Read reads the whole file f and returns its exact bytes (the complete
// TLV). The file must be in the currently selected application (or the MF
// for MF files). partial holds bytes already read by an earlier, interrupted
// call: reading resumes after them. On error Read returns what it has read
// so far together with the error, so that a caller can re-authenticate and
// resume.
func (r *FileReader) Read(ctx context.Context, f EF, partial []byte) ([]byte, error) {
	data := partial
	if _, err := tlv.ParseHeader(data); err != nil {
		data = nil // not even the header made it: start over
	}
	var sfi byte
	r.exactHint = 0
	total := sizeUnknown
	if f == EFATRInfo {
		total = sizeToEnd // a set of data objects (9303-10 §3.11.1)
	}
	if len(data) == 0 && r.sfi != SupportRefused && f.SFI() != 0 {
		sfi = f.SFI()
	} else if err := selectEF(ctx, r.Transport, f); err != nil {
		return data, fmt.Errorf("icao: read %v: select: %w", f, err)
	}
	if len(data) > 0 && total == sizeUnknown {
		var err error
		if total, err = r.fileSize(data); err != nil {
			return data, fmt.Errorf("icao: read %v: %w", f, err)
		}
	}
	for total < 0 || len(data) < total {
		chunk, eof, err := r.next(ctx, sfi, len(data), total)
		if sfi != 0 && err != nil && r.refusesSFI(f, err) {
			sfi = 0
			if err := selectEF(ctx, r.Transport, f); err != nil {
				// Absent both ways says nothing about short EF identifiers.
				return data, fmt.Errorf("icao: read %v: select: %w", f, err)
			}
			r.sfi = SupportRefused
			continue
		}
		if sfi != 0 && err == nil {
			r.sfi = SupportWorks
		}
		sfi = 0 // reading by SFI selected the file
		data = append(data, chunk...)
		if err != nil {
			r.progress(f, data, total)
			return data, fmt.Errorf("icao: read %v at offset %d: %w", f, len(data), err)
		}
		if total, err = r.settle(data, total, eof); err != nil {
			return data, fmt.Errorf("icao: read %v: %w", f, err)
		}
		r.progress(f, data, total)
	}
	if total >= 0 && len(data) > total {
		data = data[:total]
	}
	return data, nil
}

func (r *FileReader) progress(f EF, data []byte, total int) {
	if r.cfg.Progress != nil {
		r.cfg.Progress(f, min(len(data), max(total, len(data))), max(total, -1))
	}
}

// settle updates the file's size after a chunk: from the header once the
// first bytes are in, and for an indefinite length once the TLV is
// complete. It also turns a 6Cxx hint into the chip's Le limit when the
// file went on past it.
func (r *FileReader) settle(data []byte, total int, eof bool) (int, error) {
	var err error
	switch {
	case total == sizeUnknown:
		if total, err = r.fileSize(data); err != nil {
			return total, err
		}
	case total == sizeToEnd && (eof || r.short):
		return len(data), nil
	case total == sizeToEnd && len(data) > r.maxFileSize():
		return total, ErrFileTooLarge
	}
	if r.exactHint > 0 {
		if total < 0 || len(data) < total {
			r.limit(r.exactHint) // the chip would not serve more than this
		}
		r.exactHint = 0
	}
	if total != sizeIndefinite {
		return total, nil
	}
	if o, _, err := tlv.Next(data); err == nil {
		return len(o.Raw), nil // indefinite length complete
	}
	if eof {
		return total, fmt.Errorf("%w: file ends inside its TLV", ErrBadResponse)
	}
	if len(data) > r.maxFileSize() {
		return total, ErrFileTooLarge
	}
	return total, nil
}

// refusesSFI reports whether err, the answer to the first READ BINARY of
// f by short EF identifier, is how chips say they do not take one. A
// chip that does not know SFIs may answer 6A82, so "not found" counts
// too, unless the chip has already served a file by SFI, or f is one of
// the first two files a read looks for, EF.ATR/INFO and EF.CardAccess:
// their absence is normal, and a SELECT would cost an APDU on every chip
// without them; the caller that needs EF.CardAccess decides whether to
// look again by file identifier. EF.CardSecurity keeps the SELECT: it is
// read after PACE, when a chip's SFI support is known.
func (r *FileReader) refusesSFI(f EF, err error) bool {
	if errors.Is(err, ErrNotFound) {
		return r.sfi != SupportWorks && f != EFATRInfo && f != EFCardAccess
	}
	return errors.Is(err, ErrWrongParameters) || errors.Is(err, ErrNotSupported)
}

func (r *FileReader) maxFileSize() int {
	if r.cfg.MaxFileSize > 0 {
		return r.cfg.MaxFileSize
	}
	return defaultMaxFileSize
}

// fileSize returns the file length from its TLV header, or
// sizeIndefinite for an indefinite length (read until the TLV is
// complete).
func (r *FileReader) fileSize(head []byte) (int, error) {
	h, err := tlv.ParseHeader(head)
	if err != nil {
		return 0, fmt.Errorf("%w: file header: %w", ErrBadResponse, err)
	}
	if h.Indefinite {
		return sizeIndefinite, nil
	}
	if h.Len > r.maxFileSize()-h.Size {
		return 0, fmt.Errorf("%w: header declares %d bytes", ErrFileTooLarge, h.Size+h.Len)
	}
	return h.Size + h.Len, nil
}

// next reads the chunk at off, adapting Le to what the chip accepts; sfi,
// when not zero, addresses the file by short EF identifier. eof reports
// that the chip said the file ends here (only relevant when total is
// unknown). A refusal that may concern the SFI is returned at once.
func (r *FileReader) next(ctx context.Context, sfi byte, off, total int) ([]byte, bool, error) {
	exact := 0 // a 6Cxx answer's length, for one retry
	for range maxAttempts {
		le, ext := r.chunkLe(off, total)
		probe := !ext && le > r.le
		if exact > 0 && exact < le {
			le, ext, probe = exact, false, false
		}
		chunk, err := r.readAt(ctx, sfi, off, le)
		r.short = len(chunk) < le
		if err == nil {
			if len(chunk) == 0 {
				return nil, false, fmt.Errorf("%w: no data and no error", ErrBadResponse)
			}
			if ext {
				r.ext = SupportWorks
			}
			switch {
			case exact > 0 && len(chunk) == le:
				r.exactHint = exact // a limit, or what was left: the file size tells
			case exact > 0:
				r.limit(exact) // it had fewer bytes than it asked for: a limit
			case !ext:
				r.served(le, len(chunk), off, total, probe)
			}
			return chunk, false, nil
		}
		sw, ok := errors.AsType[StatusWord](err)
		switch {
		case !ok:
			if ext && errors.Is(err, ErrReaderLimit) {
				r.ext = SupportRefused // the caller re-opens the session; go on short
			}
			return chunk, false, err
		case sw == StatusEndOfFile && len(chunk) > 0:
			if !ext && exact == 0 {
				r.served(le, len(chunk), off, total, probe)
			}
			return chunk, total < 0, nil
		case sfi != 0 && (errors.Is(sw, ErrWrongParameters) || errors.Is(sw, ErrNotSupported) || errors.Is(sw, ErrNotFound)):
			return nil, false, err
		case sw == StatusEndOfFile || (total < 0 && off > 0 && errors.Is(sw, ErrWrongParameters)):
			if total < 0 && off > 0 {
				return nil, true, nil
			}
		case exact == 0 && sw>>8 == 0x6C:
			exact, _ = sw.ExactLe()
			continue
		case errors.Is(sw, ErrLength) || sw == StatusWrongP1P2:
		default:
			return nil, false, err
		}
		if probe {
			r.settled = true // the chip serves the current Le and no more
			continue
		}
		if !r.shrink(ext) {
			return nil, false, err
		}
	}
	return nil, false, fmt.Errorf("%w: Le never settled", ErrBadResponse)
}

// served learns from a short READ BINARY that the chip answered with n
// bytes for le at off: a probe it served whole raises Le, and fewer bytes
// than asked while the file goes on are the chip's limit (the ES ID card
// cuts a read at 160 bytes, AndyQ/NFCPassportReader#91).
func (r *FileReader) served(le, n, off, total int, probe bool) {
	switch {
	case off > maxB0Offset || total < 0:
	case n < le && off+n < total:
		r.limit(n)
	case probe && n == le:
		r.le = le
		r.settled = le >= r.topLe()
	}
}

// maxAttempts bounds the retries of one chunk; each settles or lowers Le.
const maxAttempts = 16

// startLe is the short Le of the first READ BINARY on a chip whose limit
// is not known yet: below every limit seen in the field (ES 160, UA 192),
// so that a short file is never refused, and a power of two, as chip
// buffers are. From there the reader climbs leRungs one at a time, where
// a file has the bytes to tell, so that a chip pays at most one refusal
// to find its limit instead of one for every step down from the top.
const startLe = 128

// leRungs lists the short Le values the reader moves between, smallest
// first, below the largest a short response carries (231 under 3DES, 223
// under AES, 256 in plain). 256 fails on RU, ES and UA documents; 160 and
// 192 are the limits of ES and UA documents (AndyQ/NFCPassportReader#89,
// #91, gmrtd/gmrtd#410); 223 is the largest under AES.
var leRungs = [...]int{minLe, 16, 32, 64, 96, startLe, 160, 192, 223}

// upLe is the Le to try next while the chip's limit is unknown: the rung
// above the current Le, or the top; zero once the limit is known.
func (r *FileReader) upLe() int {
	le := r.shortLe()
	if r.settled {
		return 0
	}
	top := r.topLe()
	for _, x := range leRungs {
		if x > le && x < top {
			return x
		}
	}
	return top
}

// shrink lowers Le after the chip refused the current one, whose limit is
// then known; it reports false when there is nothing smaller left to try.
func (r *FileReader) shrink(ext bool) bool {
	if ext {
		r.ext = SupportRefused
		return true
	}
	le := r.shortLe()
	for i := len(leRungs) - 1; i >= 0; i-- {
		if leRungs[i] < le {
			r.le, r.settled = leRungs[i], true
			return true
		}
	}
	return false
}

// limit records le as the most the chip serves in one READ BINARY.
func (r *FileReader) limit(le int) {
	if le >= minLe {
		r.le, r.settled = min(le, r.topLe()), true
	}
}

// shortLe is the current Le of a short READ BINARY. It never exceeds
// what a short response carries on the transport of the moment: Chip
// Authentication can move secure messaging from 3DES (231) to AES (223)
// between two files, and a larger Le would need extended length.
func (r *FileReader) shortLe() int {
	top := r.topLe()
	if r.le == 0 {
		r.le = min(startLe, top)
		r.settled = r.le == top
	}
	if r.le > top {
		r.le = top
	}
	return r.le
}

// topLe is the largest short Le: what a short response carries under the
// transport's secure messaging, the configured cap, and what fits the
// chip's stated response buffer.
func (r *FileReader) topLe() int {
	le := MaxShortNe
	if l, ok := r.Transport.(LeLimiter); ok {
		le = l.MaxShortLe()
	}
	if r.cfg.MaxLe > 0 {
		le = min(le, r.cfg.MaxLe)
	}
	if r.cfg.Chip.Stated() {
		le = min(le, max(r.fitLe(r.cfg.Chip.Buffers.Response-2, false), minLe))
	}
	return le
}

// fitLe is the largest Ne whose response, as it crosses the transport,
// carries at most n data bytes.
func (r *FileReader) fitLe(n int, odd bool) int {
	if f, ok := r.Transport.(LeFitter); ok {
		return f.FitLe(n, odd)
	}
	return min(n, MaxExtendedNe)
}

// extendedLe is the Ne of an extended READ BINARY; for the odd INS, the
// length of the data inside DO'53'.
func (r *FileReader) extendedLe(odd bool) int {
	le := r.plan.Le
	if r.plan.Response > 0 {
		le = r.fitLe(r.plan.Response-2, odd)
	}
	le = min(le, MaxExtendedNe)
	if odd {
		le = tlv.FitValue(le)
	}
	return le
}

// chunkLe returns how many bytes to ask for at off, and whether that needs
// an extended APDU. While the size is unknown it asks for as much as one
// APDU may carry; while the chip's short limit is unknown and the file
// has the bytes to tell, it asks for the next rung up.
func (r *FileReader) chunkLe(off, total int) (int, bool) {
	short := r.shortLe()
	remaining := MaxExtendedNe
	if total >= 0 {
		remaining = total - off
	}
	odd := off > maxB0Offset
	if odd {
		short = tlv.FitValue(short) // DO'53' wraps the data
	}
	if r.plan.Extended() && r.ext != SupportRefused && remaining > short {
		if le := r.extendedLe(odd); le > short {
			return min(le, remaining), true
		}
	}
	if up := r.upLe(); up > 0 && total >= 0 && !odd && remaining > short {
		return min(up, remaining), false // a probe the file has the bytes to answer
	}
	return min(short, remaining), false
}

// readAt sends one READ BINARY for le bytes at off: B0 with the offset in
// P1-P2 up to 32767 (or with the SFI in P1 and the offset in P2), B1 with
// DO'54' beyond (9303-10 §3.5.2).
func (r *FileReader) readAt(ctx context.Context, sfi byte, off, le int) ([]byte, error) {
	if off <= maxB0Offset {
		cmd := Command{INS: InsReadBinary, P1: byte(off >> 8), P2: byte(off), Ne: le}
		if sfi != 0 && off <= maxSFIOffset {
			cmd.P1 = 0x80 | sfi
		}
		resp, err := Exchange(ctx, r.Transport, cmd)
		if len(resp.Data) > le {
			return nil, fmt.Errorf("%w: %d bytes for Le %d", ErrBadResponse, len(resp.Data), le)
		}
		return append([]byte(nil), resp.Data...), err
	}
	offset := []byte{byte(off >> 16), byte(off >> 8), byte(off)}
	if off <= 0xFFFF {
		offset = offset[1:]
	}
	cmd := Command{INS: InsReadBinaryOdd, Data: tlv.Encode(0x54, offset), Ne: 1 + tlv.LengthSize(le) + le}
	resp, err := Exchange(ctx, r.Transport, cmd)
	if len(resp.Data) == 0 {
		return nil, err
	}
	do, derr := tlv.DecodeExpect(resp.Data, 0x53)
	if derr != nil {
		return nil, fmt.Errorf("%w: odd-INS answer: %w", ErrBadResponse, derr)
	}
	if len(do.Value) > le {
		return nil, fmt.Errorf("%w: %d bytes for Le %d", ErrBadResponse, len(do.Value), le)
	}
	return append([]byte(nil), do.Value...), err
}
