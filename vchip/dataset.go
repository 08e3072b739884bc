package vchip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
)

// MaxFileSize is the largest file a chip serves: the largest offset a
// three-byte DO'54' reaches, plus one.
const MaxFileSize = 1 << 24

// ChipJSON is the name of the optional file, next to the LDS files of a
// dataset directory, that holds the BAC key override and the quirks.
const ChipJSON = "chip.json"

// CSCAFile is the name of the optional file, next to the LDS files of a
// dataset directory, that holds the DER certificate of the CSCA that
// issued the document signer: the trust anchor to give `--trust`.
const CSCAFile = "CSCA.cer"

// MasterListFile and CRLFile are the names of the optional files, next to
// CSCAFile, that hold the specimen CSCA's master list and CRL: with
// CSCA.cer a directory to give `--trust`, as a State's PKI files.
const (
	MasterListFile = "CSCA.ml"
	CRLFile        = "CSCA.crl"
)

// Errors of dataset loading and [New].
var (
	ErrUnknownFile  = errors.New("vchip: not a file name of an eMRTD")
	ErrFileTooLarge = errors.New("vchip: file larger than a chip can serve")
	ErrMissingFile  = errors.New("vchip: required file missing")
	ErrNoAccessKey  = errors.New("vchip: no BAC key: DG1 holds no usable MRZ and chip.json gives none")
	ErrChipJSON     = errors.New("vchip: invalid chip.json")
)

// requiredFiles are the files without which a dataset is no passport:
// EF.COM lists the data groups and DG1 holds the MRZ that BAC keys derive
// from. EF.SOD and DG2 are optional so that a reader's handling of their
// absence (6A82) can be tested.
var requiredFiles = []string{NameCOM, "DG1"}

// Dataset is the content of one virtual passport: its files and how its
// chip behaves. It holds personal data, the CAN and keys, so it has no
// String method; it logs and formats as "redacted".
type Dataset struct {
	// Files maps file names (see [FileNames]: "EF.COM", "EF.SOD", "DG1" …
	// "DG16", "EF.CardAccess") to their exact bytes.
	Files map[string][]byte
	// MRZInformation, when set, is the BAC key seed input (document
	// number, date of birth and date of expiry with their check digits,
	// 9303-11 §9.7.2) and overrides the MRZ in DG1. It comes from
	// chip.json.
	MRZInformation []byte
	// CAN is the Card Access Number, six digits, which the chip accepts
	// as a PACE password besides the MRZ (9303-11 §4.4, §9.7.3); "" means
	// none. It comes from chip.json ("can").
	CAN string
	// ChipKey is the static Chip Authentication key PACE-CAM needs, from
	// chip.json ("chip_key"); nil means none, and then the chip does not
	// run the CAM protocols its EF.CardAccess may offer.
	ChipKey *ChipKey
	// CAKey is the chip's Chip Authentication key, from chip.json
	// ("ca_key"); nil means the chip does not run Chip Authentication. The
	// protocols are those DG14 offers for its keyId.
	CAKey *CAKey
	// AAKey is the chip's Active Authentication key, from chip.json
	// ("aa_key"); nil means INTERNAL AUTHENTICATE is not supported.
	AAKey *AAKey
	// Config is the chip behaviour from chip.json; [New] uses it when it
	// is given no Config of its own.
	Config Config
	// CSCA is the DER certificate of the specimen CSCA that issued the
	// document signer of EF.SOD (file CSCA.cer); nil when unknown. It is
	// public: a test or a demo trusts it as a State's CSCA.
	CSCA []byte
	// MasterList is a CSCA master list (9303-12 §9) holding CSCA, signed
	// by a master list signer CSCA issued (file CSCA.ml); CRL is an empty
	// CRL signed by CSCA (file CSCA.crl). Both are DER, nil when unknown.
	MasterList, CRL []byte
}

// LogValue keeps the files, the CAN and the keys out of structured logs.
func (Dataset) LogValue() slog.Value { return slog.StringValue("redacted") }

// Format prints "redacted" for every fmt verb, so that a stray %v cannot
// print DG1 or the CAN.
func (Dataset) Format(f fmt.State, _ rune) { io.WriteString(f, "redacted") }

// LoadDir loads the dataset in directory dir; see [LoadDataset].
func LoadDir(dir string) (*Dataset, error) {
	return LoadDataset(os.DirFS(dir))
}

// LoadDataset loads a dataset from the root of fsys: the files named as
// [FileNames] lists them, read by [icao.ReadDir] (the format `nfcbridge
// read --out` writes), of which EF.COM and DG1 are required, and an
// optional chip.json, CSCA.cer, CSCA.ml and CSCA.crl. Other files are ignored; a dataset file
// that is a symbolic link or not a regular file is an error. It checks that the BAC key can be derived.
func LoadDataset(fsys fs.FS) (*Dataset, error) {
	files, _, err := icao.ReadDir(fsys)
	if errors.Is(err, icao.ErrFileTooLarge) {
		return nil, fmt.Errorf("vchip: load dataset: %w: %w", ErrFileTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("vchip: load dataset: %w", err)
	}
	ds := &Dataset{Files: make(map[string][]byte, len(files))}
	for f, data := range files {
		ds.Files[f.String()] = data
	}
	for _, name := range requiredFiles {
		if _, ok := ds.Files[name]; !ok {
			return nil, fmt.Errorf("vchip: load dataset: %w: %s", ErrMissingFile, name)
		}
	}
	for name, dst := range ds.pkiFiles() {
		switch b, err := readFile(fsys, name); {
		case err == nil:
			*dst = b
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("vchip: load dataset: %s: %w", name, err)
		}
	}
	b, err := readFile(fsys, ChipJSON)
	switch {
	case err == nil:
		if err := ds.parseChipJSON(b); err != nil {
			return nil, fmt.Errorf("vchip: load dataset: %w", err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("vchip: load dataset: %s: %w", ChipJSON, err)
	}
	if _, err := ds.accessKey(); err != nil && !ds.Config.NoBAC {
		return nil, fmt.Errorf("vchip: load dataset: %w", err)
	}
	return ds, nil
}

// pkiFiles maps the names of the public PKI files of a dataset to the
// fields that hold them.
func (ds *Dataset) pkiFiles() map[string]*[]byte {
	return map[string]*[]byte{CSCAFile: &ds.CSCA, MasterListFile: &ds.MasterList, CRLFile: &ds.CRL}
}

// readFile reads a regular file of at most MaxFileSize bytes.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	if info.Size() > MaxFileSize {
		return nil, ErrFileTooLarge
	}
	b, err := fs.ReadFile(fsys, name)
	if err == nil && len(b) > MaxFileSize {
		err = ErrFileTooLarge
	}
	return b, err
}

// accessKey returns the BAC key seed input: MRZInformation, else the one
// of the MRZ in DG1.
func (ds *Dataset) accessKey() ([]byte, error) {
	if len(ds.MRZInformation) > 0 {
		return bytes.Clone(ds.MRZInformation), nil
	}
	dg1, ok := ds.Files["DG1"]
	if !ok {
		return nil, ErrNoAccessKey
	}
	d, err := icao.ParseDG1(dg1)
	if err != nil {
		return nil, fmt.Errorf("%w: DG1: %w", ErrNoAccessKey, err)
	}
	return d.MRZ.AccessKey().Information(), nil
}

// WriteDir writes the dataset into dir, creating it: one file per entry of
// Files ([icao.WriteDir]), CSCA.cer, CSCA.ml and CSCA.crl when CSCA,
// MasterList and CRL are set and, when
// MRZInformation, CAN, ChipKey or Config is set, chip.json. Each file is
// replaced whole. Files of other names already in dir are left alone. The files may hold personal
// data, so they are readable by their owner only.
func (ds *Dataset) WriteDir(dir string) error {
	files := make(map[icao.EF][]byte, len(ds.Files))
	for name, data := range ds.Files {
		f, ok := efOf(name)
		if !ok {
			return fmt.Errorf("vchip: write dataset: %w: %q", ErrUnknownFile, name)
		}
		files[f] = data
	}
	if err := icao.WriteDir(dir, files); err != nil {
		return fmt.Errorf("vchip: write dataset: %w", err)
	}
	for name, b := range ds.pkiFiles() {
		if *b == nil {
			continue
		}
		if err := atomicfile.Write(filepath.Join(dir, name), *b, 0o644); err != nil {
			return fmt.Errorf("vchip: write dataset: %w", err)
		}
	}
	cf, ok := ds.chipFile()
	if !ok {
		return nil
	}
	b, err := json.MarshalIndent(cf, "", "  ")
	if err != nil {
		return fmt.Errorf("vchip: write dataset: %s: %w", ChipJSON, err)
	}
	if err := atomicfile.Write(filepath.Join(dir, ChipJSON), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("vchip: write dataset: %w", err)
	}
	return nil
}
