package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
)

// keyFlags are the ways to give the access key on the command line.
type keyFlags struct {
	mrzFile, mrz             string
	docNumber, birth, expiry string
	can                      string
}

func addKeyFlags(fs *flag.FlagSet) *keyFlags {
	k := &keyFlags{}
	fs.StringVar(&k.mrzFile, "mrz-file", "", "file holding the printed MRZ lines")
	fs.StringVar(&k.mrz, "mrz", "", "the printed MRZ lines (separated by newlines or spaces)")
	fs.StringVar(&k.docNumber, "document-number", "", "document number (with --date-of-birth and --date-of-expiry)")
	fs.StringVar(&k.birth, "date-of-birth", "", "date of birth, YYMMDD")
	fs.StringVar(&k.expiry, "date-of-expiry", "", "date of expiry, YYMMDD")
	fs.StringVar(&k.can, "can", "", "card access number (6 digits printed on ID cards): PACE with the CAN")
	return k
}

// key builds the access key; errors name the bad field, never its value.
func (k *keyFlags) key() (mrtd.Key, error) {
	byFields := k.docNumber != "" || k.birth != "" || k.expiry != ""
	given := 0
	for _, set := range []bool{k.mrzFile != "", k.mrz != "", byFields} {
		if set {
			given++
		}
	}
	if given > 1 || (given == 0 && k.can == "") {
		return mrtd.Key{}, usagef("give --can, or exactly one of --mrz-file, --mrz, or --document-number with --date-of-birth and --date-of-expiry")
	}
	if k.can != "" {
		if _, err := pace.CAN(k.can); err != nil {
			return mrtd.Key{}, usagef("--can must be the 6 digits of the card access number")
		}
	}
	if given == 0 {
		return mrtd.Key{CAN: k.can}, nil
	}
	mrz, err := k.mrzKey(byFields)
	return mrtd.Key{MRZ: mrz, CAN: k.can}, err
}

func (k *keyFlags) mrzKey(byFields bool) (icao.AccessKey, error) {
	text := k.mrz
	switch {
	case byFields:
		return icao.NewAccessKey(k.docNumber, k.birth, k.expiry)
	case k.mrzFile != "":
		b, err := os.ReadFile(k.mrzFile)
		if err != nil {
			return icao.AccessKey{}, fmt.Errorf("read MRZ file: %w", err)
		}
		text = string(b)
	}
	m, err := icao.ParseMRZ(strings.Join(strings.Fields(text), "\n"))
	if err != nil {
		return icao.AccessKey{}, err
	}
	return m.AccessKey(), nil
}

// runRead waits for a card, reads it, writes the files and optionally
// uploads them.
func runRead(parent context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "read")
	readerName := fs.String("reader", "", "PC/SC reader name (default: the first reader with a card)")
	out := fs.String("out", "", "directory to write EF.COM, EF.SOD, DG1, DG2 into")
	asJSON := fs.Bool("json", false, "print a JSON summary on stdout")
	timeout := fs.Duration("timeout", 60*time.Second, "how long to wait for a card and read it")
	maxLe := fs.Int("max-le", 0, "largest short Le to use (0: the most a short APDU carries)")
	extended := fs.String("extended", "auto", "extended-length APDUs: auto, never or always")
	accessFlag := fs.String("access", "auto", "access control: auto (PACE when offered, else BAC), pace or bac")
	k := addKeyFlags(fs)
	up := addUploadFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" && up.sessionID == "" {
		return usagef("--out DIR is required (or --session-id to upload)")
	}
	key, err := k.key()
	if err != nil {
		return err
	}
	mode, err := parseExtended(*extended)
	if err != nil {
		return err
	}
	var client *upload.Client
	if up.sessionID != "" {
		if client, err = up.client(e); err != nil {
			return err
		}
	}
	access, err := parseAccess(*accessFlag)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(parent, *timeout)
	defer cancel()
	cfg := &mrtd.Config{Access: access, Read: icao.ReadConfig{MaxLe: *maxLe, Extended: mode}}
	doc, name, err := readCard(ctx, *readerName, key, cfg)
	if doc != nil && len(doc.Files) > 0 && *out != "" && (err == nil || errors.As(err, new(*mrtd.Error))) {
		if werr := writeFiles(*out, doc); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if err := printSummary(e, name, *out, doc, *asJSON && client == nil); err != nil {
		return err
	}
	if !doc.HashesValid() {
		return fmt.Errorf("data integrity: the data groups do not match EF.SOD (%s)", hashSummary(doc))
	}
	if doc.PACE != nil && doc.PACE.ChipAuthentication == "failed" {
		return errors.New("chip authentication failed: the chip does not hold the key in DG14 (possible clone)")
	}
	if client == nil {
		return nil
	}
	// The upload has its own time limit; the read timeout is spent.
	m, err := client.UploadNFC(parent, up.sessionID, upload.NFC{
		COM: doc.Files[icao.EFCOM], SOD: doc.Files[icao.EFSOD], DG1: doc.Files[icao.EFDG1], DG2: doc.Files[icao.EFDG2],
	})
	if err != nil {
		return err
	}
	return printMedia(e, m, *asJSON)
}

func parseAccess(s string) (mrtd.Access, error) {
	switch s {
	case "auto":
		return mrtd.AccessAuto, nil
	case "pace":
		return mrtd.AccessPACE, nil
	case "bac":
		return mrtd.AccessBAC, nil
	}
	return 0, usagef("--access must be auto, pace or bac")
}

func parseExtended(s string) (icao.ExtendedMode, error) {
	switch s {
	case "auto":
		return icao.ExtendedAuto, nil
	case "never":
		return icao.ExtendedNever, nil
	case "always":
		return icao.ExtendedAlways, nil
	}
	return 0, usagef("--extended must be auto, never or always")
}

// readCard waits for a card on the reader (any reader when name is empty),
// connects and reads it.
func readCard(ctx context.Context, name string, key mrtd.Key, cfg *mrtd.Config) (*mrtd.Document, string, error) {
	p, err := reader.Open()
	if err != nil {
		return nil, "", err
	}
	defer p.Close()
	name, err = p.WaitForCard(ctx, name)
	if err != nil {
		return nil, "", fmt.Errorf("wait for card: %w", err)
	}
	card, err := p.Connect(ctx, name)
	if err != nil {
		return nil, name, err
	}
	defer card.Close()
	doc, err := mrtd.Read(ctx, card, key, cfg)
	return doc, name, err
}

// writeFiles writes each file read into dir, readable by the owner only:
// they hold personal data.
func writeFiles(dir string, doc *mrtd.Document) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write files: %w", err)
	}
	for f, b := range doc.Files {
		path := filepath.Join(dir, f.String())
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			return fmt.Errorf("write %v: %w", f, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %v: %w", f, err)
		}
	}
	return nil
}

// summary is the --json output of read: counts and checks, no personal data.
type summary struct {
	Reader        string            `json:"reader"`
	AccessControl string            `json:"accessControl"`
	PACE          *mrtd.PACEDetails `json:"pace,omitempty"`
	Fallback      string            `json:"fallback,omitempty"`
	APDUs         int               `json:"apdus"`
	BytesSent     int               `json:"bytesSent"`
	BytesReceived int               `json:"bytesReceived"`
	ElapsedMs     float64           `json:"elapsedMs"`
	ModeledMs     float64           `json:"modeledMs106k"`
	Files         []fileSummary     `json:"files"`
	SOD           sodSummary        `json:"sodHashCheck"`
	Out           string            `json:"out,omitempty"`
}

type fileSummary struct {
	Name      string  `json:"name"`
	Size      int     `json:"size"`
	APDUs     int     `json:"apdus"`
	ElapsedMs float64 `json:"elapsedMs"`
}

type sodSummary struct {
	Valid         bool              `json:"valid"`
	HashAlgorithm string            `json:"hashAlgorithm,omitempty"`
	DataGroups    map[string]string `json:"dataGroups"`
}

// modelPerAPDU is the fixed per-APDU cost used for the modeled read time
// (FIELD-NOTES §4: 4–9 ms measured on desktop PC/SC readers).
const modelPerAPDU = 6 * time.Millisecond

func newSummary(readerName, out string, doc *mrtd.Document) summary {
	s := summary{
		Reader: readerName, AccessControl: doc.AccessControl, PACE: doc.PACE, Fallback: doc.FallbackReason, Out: out,
		APDUs: doc.Stats.APDUs, BytesSent: doc.Stats.BytesSent, BytesReceived: doc.Stats.BytesReceived,
		ElapsedMs: ms(doc.Stats.Elapsed), ModeledMs: ms(doc.Stats.ModeledTime(modelPerAPDU, mrtd.Rate106)),
		SOD: sodSummary{Valid: doc.HashesValid(), DataGroups: map[string]string{}},
	}
	for _, f := range doc.Stats.Files {
		s.Files = append(s.Files, fileSummary{Name: f.File.String(), Size: f.Size, APDUs: f.APDUs, ElapsedMs: ms(f.Elapsed)})
	}
	if doc.SOD != nil {
		s.SOD.HashAlgorithm = doc.SOD.HashAlgorithm.String()
	}
	for f, err := range doc.HashCheck {
		s.SOD.DataGroups[f.String()] = "ok"
		if err != nil {
			s.SOD.DataGroups[f.String()] = "mismatch"
		}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func hashSummary(doc *mrtd.Document) string {
	var parts []string
	for f, err := range doc.HashCheck {
		if err != nil {
			parts = append(parts, f.String()+" mismatch")
		}
	}
	if doc.SOD == nil {
		parts = append(parts, "no EF.SOD")
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

func printSummary(e *env, readerName, out string, doc *mrtd.Document, asJSON bool) error {
	s := newSummary(readerName, out, doc)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	fmt.Fprintf(e.stdout, "read with %s on %q: %d APDUs, %d bytes sent, %d received, %.0f ms (modeled at 106 kbit/s: %.0f ms)\n",
		s.AccessControl, s.Reader, s.APDUs, s.BytesSent, s.BytesReceived, s.ElapsedMs, s.ModeledMs)
	for _, f := range s.Files {
		fmt.Fprintf(e.stdout, "  %-7s %7d bytes %4d APDUs %8.1f ms\n", f.Name, f.Size, f.APDUs, f.ElapsedMs)
	}
	check := "all data groups match EF.SOD"
	if !s.SOD.Valid {
		check = "MISMATCH: " + hashSummary(doc)
	}
	fmt.Fprintf(e.stdout, "  EF.SOD (%s): %s\n", s.SOD.HashAlgorithm, check)
	if out != "" {
		fmt.Fprintf(e.stdout, "  files written to %s\n", out)
	}
	return nil
}
