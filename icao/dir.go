package icao

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
	"github.com/nfcbridge/nfcbridge/internal/secretfile"
)

// MaxDirFile caps each file [ReadDir] reads: a file's length in its
// first tag takes at most three bytes (9303-10 §4.6.1), and a wrong
// directory then fails quickly.
const MaxDirFile = 1 << 24

// ReadDir reads a dataset directory, the root of fsys: one file per
// elementary file, named as [EF.MarshalText] names it (EF.COM, EF.SOD,
// DG1 … DG16, EF.CardAccess, EF.CardSecurity), as `nfcbridge read --out`
// writes them. Other names are returned in ignored, unread. A file of a
// known name that is not a regular file (a symbolic link, a directory, a
// device) or that is larger than [MaxDirFile] is an error wrapping
// [ErrFileTooLarge] for the latter, so that nothing is read through a
// link or from a device. Errors name files, never their content.
func ReadDir(fsys fs.FS) (files map[EF][]byte, ignored []string, err error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, nil, fmt.Errorf("icao: read dir: %w", err)
	}
	files = make(map[EF][]byte)
	for _, de := range entries {
		var f EF
		if f.UnmarshalText([]byte(de.Name())) != nil || f == EFATRInfo {
			ignored = append(ignored, de.Name())
			continue
		}
		if !de.Type().IsRegular() {
			return nil, nil, fmt.Errorf("icao: %s is not a regular file", de.Name())
		}
		if files[f], err = readDirFile(fsys, de.Name()); err != nil {
			return nil, nil, fmt.Errorf("icao: %s: %w", de.Name(), err)
		}
	}
	return files, ignored, nil
}

// readDirFile reads a regular file of at most MaxDirFile bytes, checking
// the opened file again: it may have been swapped since the listing.
func readDirFile(fsys fs.FS, name string) ([]byte, error) {
	b, err := secretfile.ReadFS(fsys, name, secretfile.Regular, MaxDirFile)
	if _, ok := errors.AsType[*secretfile.SizeError](err); ok {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrFileTooLarge, MaxDirFile)
	}
	if _, ok := errors.AsType[*secretfile.ModeError](err); ok {
		return nil, errors.New("not a regular file")
	}
	return b, err
}

// WriteDir writes files into directory dir in the format [ReadDir]
// reads, creating dir (mode 0700) if needed; files of other names in dir
// are left alone. The files hold personal data, so each is readable by
// its owner only (0600), and each is replaced whole ([atomicfile.Write]):
// an interrupted write never leaves a truncated DG2 that reads as data.
func WriteDir(dir string, files map[EF][]byte) error {
	for f := range files {
		if f.DataGroup() == 0 && f != EFCOM && f != EFSOD && f != EFCardAccess && f != EFCardSecurity {
			return fmt.Errorf("icao: write dir: %v has no file name in a dataset directory", f)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("icao: write dir: %w", err)
	}
	for f := EFCOM; f <= EFCardSecurity; f++ {
		b, ok := files[f]
		if !ok {
			continue
		}
		if err := atomicfile.Write(filepath.Join(dir, f.String()), b, 0o600); err != nil {
			return fmt.Errorf("icao: write %v: %w", f, err)
		}
	}
	return nil
}
