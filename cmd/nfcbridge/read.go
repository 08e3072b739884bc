package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/internal/atomicfile"
	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/pki"
	"github.com/nfcbridge/nfcbridge/reader"
	"github.com/nfcbridge/nfcbridge/upload"
)

// keyFlags are the ways to give the access key on the command line.
type keyFlags struct {
	mrzFile, mrz             string
	docNumber, birth, expiry string
	can                      string
}

// The environment variables that carry the access key without putting it
// in the process list: a process's environment is readable only by its
// user (proc(5), /proc/PID/environ), its arguments by everyone.
const (
	envMRZ = "NFCBRIDGE_MRZ"
	envCAN = "NFCBRIDGE_CAN"
)

// exposing names the key flags whose values are personal data and end up in
// the process list.
var exposing = []string{"mrz", "document-number", "date-of-birth", "date-of-expiry", "can"}

const exposed = " (visible to other users in the process list: prefer --mrz-file - or $" + envMRZ + "/$" + envCAN + ")"

func addKeyFlags(fs *flag.FlagSet) *keyFlags {
	k := &keyFlags{}
	fs.StringVar(&k.mrzFile, "mrz-file", "", "file holding the printed MRZ lines, - for standard input (keeps the MRZ out of the process list); $"+envMRZ+" works too")
	fs.StringVar(&k.mrz, "mrz", "", "the printed MRZ lines (separated by newlines or spaces)"+exposed)
	fs.StringVar(&k.docNumber, "document-number", "", "document number (with --date-of-birth and --date-of-expiry)"+exposed)
	fs.StringVar(&k.birth, "date-of-birth", "", "date of birth, YYMMDD"+exposed)
	fs.StringVar(&k.expiry, "date-of-expiry", "", "date of expiry, YYMMDD"+exposed)
	fs.StringVar(&k.can, "can", "", "card access number (6 digits printed on ID cards): PACE with the CAN"+exposed)
	return k
}

// warnExposed tells, on stderr, which personal-data flags were given: their
// values are in the process list for as long as the read runs. The
// warning names flags, never values.
func warnExposed(e *env, fs *flag.FlagSet) {
	var given []string
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(exposing, f.Name) {
			given = append(given, "--"+f.Name)
		}
	})
	if len(given) == 0 {
		return
	}
	fmt.Fprintf(e.stderr, "warning: %s put personal data in the process list, where other users of this machine can read it; "+
		"give the MRZ with --mrz-file - (standard input) or a file, or in $%s, and the CAN in $%s\n",
		strings.Join(given, ", "), envMRZ, envCAN)
}

// key builds the access key; errors name the bad field, never its value.
// The environment is used for what the flags do not give.
func (k *keyFlags) key(e *env) (mrtd.Key, error) {
	byFields := k.docNumber != "" || k.birth != "" || k.expiry != ""
	if k.can == "" {
		k.can = strings.TrimSpace(e.getenv(envCAN))
	}
	if k.mrzFile == "" && k.mrz == "" && !byFields {
		k.mrz = e.getenv(envMRZ)
	}
	given := 0
	for _, set := range []bool{k.mrzFile != "", k.mrz != "", byFields} {
		if set {
			given++
		}
	}
	if given > 1 || (given == 0 && k.can == "") {
		return mrtd.Key{}, usagef("give --can, or exactly one of --mrz-file, --mrz, or --document-number with --date-of-birth and --date-of-expiry (or $%s, $%s)", envMRZ, envCAN)
	}
	if k.can != "" {
		if _, err := pace.CAN(k.can); err != nil {
			return mrtd.Key{}, usagef("--can (or $%s) must be the 6 digits of the card access number", envCAN)
		}
	}
	if given == 0 {
		return mrtd.Key{CAN: k.can}, nil
	}
	mrz, err := k.mrzKey(e, byFields)
	return mrtd.Key{MRZ: mrz, CAN: k.can}, err
}

func (k *keyFlags) mrzKey(e *env, byFields bool) (icao.AccessKey, error) {
	text := k.mrz
	switch {
	case byFields:
		return icao.NewAccessKey(k.docNumber, k.birth, k.expiry)
	case k.mrzFile == "-":
		b, err := io.ReadAll(io.LimitReader(e.stdin, 4096))
		if err != nil {
			return icao.AccessKey{}, fmt.Errorf("read MRZ from standard input: %w", err)
		}
		text = string(b)
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

// readOptions are the parsed flags of the read command.
type readOptions struct {
	reader, out string
	asJSON      bool
	timeout     time.Duration
	key         mrtd.Key
	cfg         *mrtd.Config
	sessionID   string
	client      *upload.Client // nil: no upload
	policy      mrtd.Policy
	trust       []pki.LoadReport
}

// parseReadFlags checks the whole command line, credentials included,
// before anything touches the reader.
func parseReadFlags(e *env, args []string) (*readOptions, error) {
	fs := newFlagSet(e, "read")
	o := &readOptions{}
	var err error
	fs.StringVar(&o.reader, "reader", "", "PC/SC reader name (default: the first reader with a card)")
	fs.StringVar(&o.out, "out", "", "directory to write the files read into (EF.COM, EF.SOD, DG1, DG2, DG14, DG15, EF.CardSecurity, ...) and the active authentication evidence (AA-challenge, AA-response), for \"nfcbridge verify\"")
	fs.BoolVar(&o.asJSON, "json", false, "print a JSON summary on stdout")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "how long to wait for a card and read it")
	maxLe := fs.Int("max-le", 0, "largest short Le to use (0: the most a short APDU carries)")
	extended := fs.String("extended", "auto", "extended-length READ BINARY: auto (only where the chip states its buffer sizes, ICAO 9303-11 §9.3.1.2), never, or always (override for chips known to need it)")
	accessFlag := fs.String("access", "auto", "access control: auto (PACE when offered, else BAC), pace or bac")
	k := addKeyFlags(fs)
	up := addUploadFlags(fs)
	tf := addTrustFlags(fs, true)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	warnExposed(e, fs)
	if o.policy, err = tf.parsePolicy(); err != nil {
		return nil, err
	}
	if o.out == "" && up.sessionID == "" {
		return nil, usagef("--out DIR is required (or --session-id to upload)")
	}
	if o.key, err = k.key(e); err != nil {
		return nil, err
	}
	mode, err := parseExtended(*extended)
	if err != nil {
		return nil, err
	}
	access, err := parseAccess(*accessFlag)
	if err != nil {
		return nil, err
	}
	store, reports, err := tf.load()
	if err != nil {
		return nil, err
	}
	o.trust = reports
	o.cfg = &mrtd.Config{Access: access, Read: icao.ReadConfig{MaxLe: *maxLe, Extended: mode}, Trust: store}
	if o.sessionID = up.sessionID; o.sessionID != "" {
		if o.client, err = up.client(e); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// runRead waits for a card, reads it, writes the files and optionally
// uploads them.
func runRead(parent context.Context, e *env, args []string) error {
	o, err := parseReadFlags(e, args)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(parent, o.timeout)
	defer cancel()
	doc, name, err := readCard(ctx, o.reader, o.key, o.cfg)
	if doc != nil {
		defer doc.Clear()
	}
	if doc != nil && len(doc.Files) > 0 && o.out != "" && (err == nil || errors.As(err, new(*mrtd.Error))) {
		if werr := writeFiles(o.out, doc); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if err := printSummary(e, name, o.out, doc, o.trust, o.asJSON && o.client == nil); err != nil {
		return err
	}
	if err := checkDocument(doc, o.policy); err != nil || o.client == nil {
		return err
	}
	// The upload has its own time limit; the read timeout is spent.
	m, err := o.client.UploadNFC(parent, o.sessionID, upload.NFC{
		COM: doc.Files[icao.EFCOM], SOD: doc.Files[icao.EFSOD], DG1: doc.Files[icao.EFDG1], DG2: doc.Files[icao.EFDG2],
	})
	if err != nil {
		return err
	}
	return printMedia(e, m, o.asJSON)
}

// checkDocument fails, under the strict policy, a read whose checks prove
// the document forged or cloned (as mrtd decides); the files are written
// already, for inspection, and nothing is uploaded.
func checkDocument(doc *mrtd.Document, policy mrtd.Policy) error {
	if p := doc.Authenticity.Problem(); p != nil && policy == mrtd.Strict {
		return p
	}
	return nil
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

// writeFiles writes each file read into dir ([icao.WriteDir]), and the
// Active Authentication evidence as AA-challenge and AA-response, readable
// by the owner only: they hold personal data. Each file is replaced whole,
// never written through.
func writeFiles(dir string, doc *mrtd.Document) error {
	if err := icao.WriteDir(dir, doc.Files); err != nil {
		return fmt.Errorf("write files: %w", err)
	}
	// The Active Authentication challenge and response, so that verify
	// can check the chip's signature again without the chip.
	if a := doc.Authenticity.Active; a.Challenge != nil && a.Response != nil {
		for _, ef := range []struct {
			name string
			b    []byte
		}{{fileAAChallenge, a.Challenge}, {fileAAResponse, a.Response}} {
			if err := atomicfile.Write(filepath.Join(dir, ef.name), ef.b, 0o600); err != nil {
				return fmt.Errorf("write %s: %w", ef.name, err)
			}
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
	Length        icao.LengthPlan   `json:"length"`
	Files         []fileSummary     `json:"files"`
	SOD           sodSummary        `json:"sodHashCheck"`
	Authenticity  mrtd.Authenticity `json:"authenticity"`
	Trust         []pki.LoadReport  `json:"trust,omitempty"`
	Out           string            `json:"out,omitempty"`
}

type fileSummary struct {
	Name      string  `json:"name"`
	Size      int     `json:"size"`
	APDUs     int     `json:"apdus"`
	ElapsedMs float64 `json:"elapsedMs"`
}

type sodSummary struct {
	Valid         bool      `json:"valid"`
	HashAlgorithm string    `json:"hashAlgorithm,omitempty"`
	Mismatched    []icao.EF `json:"mismatched,omitempty"`
}

// modelPerAPDU is the fixed per-APDU cost used for the modeled read time
// (4–9 ms measured on desktop PC/SC readers: the log in gmrtd/gmrtd#6).
const modelPerAPDU = 6 * time.Millisecond

func newSummary(readerName, out string, doc *mrtd.Document, trust []pki.LoadReport) summary {
	s := summary{
		Reader: readerName, AccessControl: doc.AccessControl, PACE: doc.PACE, Fallback: doc.FallbackReason, Out: out,
		APDUs: doc.Stats.APDUs, BytesSent: doc.Stats.BytesSent, BytesReceived: doc.Stats.BytesReceived,
		ElapsedMs: ms(doc.Stats.Elapsed), ModeledMs: ms(doc.Stats.ModeledTime(modelPerAPDU, mrtd.Rate106)), Length: doc.Length,
		SOD:          sodSummary{Valid: doc.HashesValid(), Mismatched: doc.Authenticity.Passive.Mismatched},
		Authenticity: doc.Authenticity, Trust: trust,
	}
	for _, f := range doc.Stats.Files {
		s.Files = append(s.Files, fileSummary{Name: f.File.String(), Size: f.Size, APDUs: f.APDUs, ElapsedMs: ms(f.Elapsed)})
	}
	if doc.SOD != nil {
		s.SOD.HashAlgorithm = doc.SOD.HashAlgorithm.String()
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func hashSummary(doc *mrtd.Document) string {
	var parts []string
	for _, f := range doc.Authenticity.Passive.Mismatched {
		parts = append(parts, f.String()+" mismatch")
	}
	if doc.SOD == nil {
		parts = append(parts, "no EF.SOD")
	}
	return strings.Join(parts, ", ")
}

func printSummary(e *env, readerName, out string, doc *mrtd.Document, trust []pki.LoadReport, asJSON bool) error {
	s := newSummary(readerName, out, doc, trust)
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	fmt.Fprintf(e.stdout, "read with %s on %q: %d APDUs, %d bytes sent, %d received, %.0f ms (modeled at 106 kbit/s: %.0f ms)\n",
		s.AccessControl, s.Reader, s.APDUs, s.BytesSent, s.BytesReceived, s.ElapsedMs, s.ModeledMs)
	fmt.Fprintf(e.stdout, "  extended-length READ BINARY: %s (decided by: %s)\n", onOff(s.Length.Extended()), s.Length.Source)
	for _, f := range s.Files {
		fmt.Fprintf(e.stdout, "  %-7s %7d bytes %4d APDUs %8.1f ms\n", f.Name, f.Size, f.APDUs, f.ElapsedMs)
	}
	check := "all data groups match EF.SOD"
	if !s.SOD.Valid {
		check = "MISMATCH: " + hashSummary(doc)
	}
	fmt.Fprintf(e.stdout, "  EF.SOD (%s): %s\n", s.SOD.HashAlgorithm, check)
	printTrust(e.stdout, trust)
	printAuthenticity(e.stdout, doc.Authenticity)
	if out != "" {
		fmt.Fprintf(e.stdout, "  files written to %s\n", out)
	}
	return nil
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}
