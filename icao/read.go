package icao

import (
	"context"
	"errors"
	"fmt"

	"github.com/nfcbridge/nfcbridge/icao/tlv"
)

// ReadConfig tunes how [FileReader] reads. The zero value is what real
// chips and readers need (FIELD-NOTES §2.1, §4).
type ReadConfig struct {
	// MaxLe caps the Le of a short READ BINARY. Zero means the largest Le
	// whose response still fits a short response APDU: the transport's
	// [LeLimiter] value under secure messaging (231 for 3DES, 223 for AES),
	// else 256.
	MaxLe int
	// Extended selects whether extended-length READ BINARY may be used.
	Extended ExtendedMode
	// ExtendedLe is the Le of an extended READ BINARY. Zero means 4096.
	ExtendedLe int
	// MaxFileSize rejects files whose header declares more bytes. Zero
	// means 1 MiB, far above any LDS file seen in the field.
	MaxFileSize int
	// NoShortEF makes the reader select files by FID instead of reading
	// them by short EF identifier.
	NoShortEF bool
	// Progress, if set, is called after every chunk with the bytes of f
	// read so far and the file's total size (-1 while unknown).
	Progress func(f EF, done, total int)
}

// ExtendedMode says when extended-length APDUs are used.
type ExtendedMode int

// Extended-length policies. ExtendedAuto probes once, on the first file
// long enough to gain from it, and falls back to short APDUs for good when
// the chip or reader refuses (about half the documents in ICAO's 2017
// interoperability test did not take extended length, FIELD-NOTES §2.1).
const (
	ExtendedAuto ExtendedMode = iota
	ExtendedNever
	ExtendedAlways
)

// Limits used when the configuration leaves them at zero.
const (
	defaultExtendedLe  = 4096
	defaultMaxFileSize = 1 << 20
	headerLe           = 8 // enough for any LDS file's tag and length
	minLe              = 8 // below this, give up shrinking
	maxB0Offset        = 0x7FFF
)

// Errors from [FileReader.Read] besides transport and status word errors.
var (
	ErrFileTooLarge = errors.New("icao: file larger than the configured limit")
	ErrBadResponse  = errors.New("icao: chip sent a response that does not fit the request")
	// ErrReaderLimit is wrapped by a transport error that came from an
	// extended-length exchange: readers at the CCID "Short APDU" level
	// (ACR122U) cannot carry them and fail the exchange rather than
	// answering with a status word (FIELD-NOTES §4). After it the reader
	// stays with short APDUs.
	ErrReaderLimit = errors.New("icao: the reader cannot carry extended-length APDUs")
)

// FileReader reads elementary files with READ BINARY, learning the chip's
// limits as it goes: it shrinks Le on 6700/6Cxx/6282/6B00 and keeps the
// smaller value, prefers short EF identifiers and remembers when the chip
// refuses them, and uses the odd-INS READ BINARY (B1, DO'54') for offsets
// above 32767 (9303-10 §3.5.2). A FileReader is not safe for concurrent use.
type FileReader struct {
	// Transport is the channel to the chip, usually a secure messaging
	// session. It may be replaced between reads, for example after the
	// caller has re-authenticated.
	Transport Transport
	cfg       ReadConfig
	le        int  // current short Le, 0 until first use
	noSFI     bool // chip refused a short EF identifier
	ext       extState
}

type extState int

const (
	extUnknown extState = iota
	extWorks
	extRefused
)

// NewFileReader returns a reader over t. cfg may be nil.
func NewFileReader(t Transport, cfg *ReadConfig) *FileReader {
	r := &FileReader{Transport: t}
	if cfg != nil {
		r.cfg = *cfg
	}
	r.noSFI = r.cfg.NoShortEF
	switch r.cfg.Extended {
	case ExtendedNever:
		r.ext = extRefused
	case ExtendedAlways:
		r.ext = extWorks
	}
	return r
}

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
	var err error
	if len(data) == 0 {
		if data, err = r.first(ctx, f); err != nil {
			return data, fmt.Errorf("icao: read %v: %w", f, err)
		}
	} else if err = selectEF(ctx, r.Transport, f); err != nil {
		return data, fmt.Errorf("icao: read %v: select: %w", f, err)
	}
	total, err := r.fileSize(data)
	if err != nil {
		return data, fmt.Errorf("icao: read %v: %w", f, err)
	}
	if r.cfg.Progress != nil {
		r.cfg.Progress(f, min(len(data), max(total, len(data))), total)
	}
	for total < 0 || len(data) < total {
		chunk, eof, err := r.next(ctx, len(data), total)
		data = append(data, chunk...)
		if r.cfg.Progress != nil {
			r.cfg.Progress(f, len(data), total)
		}
		if err != nil {
			return data, fmt.Errorf("icao: read %v at offset %d: %w", f, len(data), err)
		}
		if total < 0 {
			if o, _, err := tlv.Next(data); err == nil {
				total = len(o.Raw) // indefinite length complete
			} else if eof {
				return data, fmt.Errorf("icao: read %v: %w: file ends inside its TLV", f, ErrBadResponse)
			} else if len(data) > r.maxFileSize() {
				return data, fmt.Errorf("icao: read %v: %w", f, ErrFileTooLarge)
			}
		}
	}
	if total >= 0 && len(data) > total {
		data = data[:total]
	}
	return data, nil
}

// first selects f (by SFI when allowed) and reads its first bytes.
func (r *FileReader) first(ctx context.Context, f EF) ([]byte, error) {
	if !r.noSFI && f.SFI() != 0 {
		cmd := Command{INS: InsReadBinary, P1: 0x80 | f.SFI(), P2: 0, Ne: headerLe}
		data, err := r.readHeader(ctx, cmd)
		if err == nil || !refusesSFI(err) {
			return data, err
		}
		r.noSFI = true
	}
	if err := selectEF(ctx, r.Transport, f); err != nil {
		return nil, err
	}
	return r.readHeader(ctx, Command{INS: InsReadBinary, Ne: headerLe})
}

// refusesSFI reports whether err is how chips say they do not take a short
// EF identifier in P1.
func refusesSFI(err error) bool {
	return errors.Is(err, ErrWrongParameters) || errors.Is(err, ErrNotSupported) || errors.Is(err, ErrNotFound)
}

// readHeader reads the first bytes of a file; files shorter than the probe
// may answer 6282 with what they have, or 6Cxx with their length.
func (r *FileReader) readHeader(ctx context.Context, cmd Command) ([]byte, error) {
	resp, err := Exchange(ctx, r.Transport, cmd)
	if sw, ok := errors.AsType[StatusWord](err); ok {
		if n, ok := sw.ExactLe(); ok && n < cmd.Ne {
			cmd.Ne = n
			resp, err = Exchange(ctx, r.Transport, cmd)
		} else if sw == StatusEndOfFile && len(resp.Data) > 0 {
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	if len(resp.Data) > cmd.Ne {
		return nil, ErrBadResponse
	}
	return append([]byte(nil), resp.Data...), nil
}

func (r *FileReader) maxFileSize() int {
	if r.cfg.MaxFileSize > 0 {
		return r.cfg.MaxFileSize
	}
	return defaultMaxFileSize
}

// fileSize returns the file length from its TLV header, or -1 for an
// indefinite length (read until the chip reports the end).
func (r *FileReader) fileSize(head []byte) (int, error) {
	h, err := tlv.ParseHeader(head)
	if err != nil {
		return 0, fmt.Errorf("%w: file header: %w", ErrBadResponse, err)
	}
	if h.Indefinite {
		return -1, nil
	}
	if h.Len > r.maxFileSize()-h.Size {
		return 0, fmt.Errorf("%w: header declares %d bytes", ErrFileTooLarge, h.Size+h.Len)
	}
	return h.Size + h.Len, nil
}

// next reads the chunk at off, adapting Le to what the chip accepts. eof
// reports that the chip said the file ends here (only relevant when total
// is unknown).
func (r *FileReader) next(ctx context.Context, off, total int) ([]byte, bool, error) {
	exact := 0 // a 6Cxx answer's length, for one retry
	for range maxAttempts {
		le, ext := r.chunkLe(off, total)
		if exact > 0 && exact < le {
			le, ext = exact, false
		}
		chunk, err := r.readAt(ctx, off, le)
		if err == nil {
			if len(chunk) == 0 {
				return nil, false, fmt.Errorf("%w: no data and no error", ErrBadResponse)
			}
			if ext {
				r.ext = extWorks
			}
			return chunk, false, nil
		}
		sw, ok := errors.AsType[StatusWord](err)
		switch {
		case !ok:
			if ext && errors.Is(err, ErrReaderLimit) {
				r.ext = extRefused // the caller re-opens the session; go on short
			}
			return chunk, false, err
		case sw == StatusEndOfFile && len(chunk) > 0:
			return chunk, total < 0, nil
		case sw == StatusEndOfFile || (total < 0 && errors.Is(sw, ErrWrongParameters)):
			if total < 0 {
				return nil, true, nil
			}
		case exact == 0 && sw>>8 == 0x6C:
			exact, _ = sw.ExactLe()
			continue
		case errors.Is(sw, ErrLength) || sw == StatusWrongP1P2:
		default:
			return nil, false, err
		}
		if !r.shrink(ext) {
			return nil, false, err
		}
	}
	return nil, false, fmt.Errorf("%w: Le never settled", ErrBadResponse)
}

// maxAttempts bounds the retries of one chunk; each shrinks Le.
const maxAttempts = 16

// leLadder lists the short Le values tried, largest first, when a chip
// refuses the current one (FIELD-NOTES §2.1: 256 fails on RU/ES/UA
// documents, 160 and 192 are known to work).
var leLadder = [...]int{223, 192, 160, 128, 96, 64, 32, 16, minLe}

// shrink lowers Le after a refusal; it reports false when there is nothing
// smaller left to try.
func (r *FileReader) shrink(ext bool) bool {
	if ext {
		r.ext = extRefused
		return true
	}
	for _, le := range leLadder {
		if le < r.shortLe() {
			r.le = le
			return true
		}
	}
	return false
}

// shortLe is the current Le of a short READ BINARY.
func (r *FileReader) shortLe() int {
	if r.le == 0 {
		r.le = MaxShortNe
		if l, ok := r.Transport.(LeLimiter); ok {
			r.le = l.MaxShortLe()
		}
		if r.cfg.MaxLe > 0 && r.cfg.MaxLe < r.le {
			r.le = r.cfg.MaxLe
		}
	}
	return r.le
}

// chunkLe returns how many bytes to ask for at off, and whether that needs
// an extended APDU.
func (r *FileReader) chunkLe(off, total int) (int, bool) {
	short := r.shortLe()
	remaining := MaxExtendedNe
	if total >= 0 {
		remaining = total - off
	}
	if off > maxB0Offset {
		short = tlv.FitValue(short) // DO'53' wraps the data
	}
	if r.ext != extRefused && remaining > short {
		le := r.cfg.ExtendedLe
		if le == 0 {
			le = defaultExtendedLe
		}
		if off > maxB0Offset {
			le = tlv.FitValue(le)
		}
		return min(le, remaining), true
	}
	return min(short, remaining), false
}

// readAt sends one READ BINARY for le bytes at off: B0 with the offset in
// P1-P2 up to 32767, B1 with DO'54' beyond (9303-10 §3.5.2).
func (r *FileReader) readAt(ctx context.Context, off, le int) ([]byte, error) {
	if off <= maxB0Offset {
		resp, err := Exchange(ctx, r.Transport, Command{INS: InsReadBinary, P1: byte(off >> 8), P2: byte(off), Ne: le})
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
