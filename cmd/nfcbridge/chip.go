package main

import (
	"context"
	"crypto"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nfcbridge/nfcbridge/chipauth"
	"github.com/nfcbridge/nfcbridge/group"
	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/pace"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// quirkFlags are the command-line switches for vchip.Config; only the
// flags given override the dataset's chip.json.
type quirkFlags struct {
	noExtended, noShortEF, noBAC, eof6282, rejectLe, cloned bool
	maxLe, removeAfter, paceFailStep                        int
	overLe                                                  string
	latency                                                 time.Duration
}

func addQuirkFlags(fs *flag.FlagSet) *quirkFlags {
	q := &quirkFlags{}
	fs.BoolVar(&q.noExtended, "no-extended-length", false, "answer extended-length APDUs with 6700")
	fs.IntVar(&q.maxLe, "max-le", 0, "largest Le served by READ BINARY (0: no limit)")
	fs.StringVar(&q.overLe, "over-le", "6700", "answer to a Le above --max-le: 6700, 6cxx, 6b00 or truncate")
	fs.BoolVar(&q.noShortEF, "no-short-ef", false, "refuse READ BINARY by short EF identifier (6A86)")
	fs.BoolVar(&q.eof6282, "eof-6282", false, "answer 6282 to a read past the end of a file")
	fs.DurationVar(&q.latency, "latency", 0, "delay per APDU, e.g. 9ms")
	fs.IntVar(&q.removeAfter, "remove-after", 0, "take the card away after `N` APDUs (0: never)")
	fs.BoolVar(&q.noBAC, "no-bac", false, "behave as a PACE-only document (GET CHALLENGE answers 6A88)")
	fs.BoolVar(&q.rejectLe, "reject-le", false, "refuse SELECT and MSE:Set AT carrying Le with 6700, as German documents do")
	fs.IntVar(&q.paceFailStep, "pace-fail-step", 0, "refuse GENERAL AUTHENTICATE step `N` (1-4) of every PACE run with 6A80 (0: never)")
	fs.BoolVar(&q.cloned, "cloned", false, "behave as a clone: chip, active and PACE-CAM keys that do not match DG14, DG15 and EF.CardSecurity")
	return q
}

// apply overrides cfg with the quirk flags that were set on fs.
func (q *quirkFlags) apply(fs *flag.FlagSet, cfg *vchip.Config) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "no-extended-length":
			cfg.NoExtendedLength = q.noExtended
		case "max-le":
			cfg.MaxLe = q.maxLe
		case "over-le":
			a, ok := vchip.ParseLeAnswer(q.overLe)
			if !ok {
				err = usagef("--over-le must be 6700, 6cxx, 6b00 or truncate")
			}
			cfg.OverLe = a
		case "no-short-ef":
			cfg.NoShortEF = q.noShortEF
		case "eof-6282":
			cfg.EOFStatus = 0
			if q.eof6282 {
				cfg.EOFStatus = icao.StatusEndOfFile
			}
		case "latency":
			cfg.Latency = q.latency
		case "remove-after":
			cfg.RemoveAfter = q.removeAfter
		case "no-bac":
			cfg.NoBAC = q.noBAC
		case "reject-le":
			cfg.RejectSelectLe = q.rejectLe
		case "pace-fail-step":
			cfg.PACEFailStep = q.paceFailStep
		case "cloned":
			cfg.Cloned = q.cloned
		}
	})
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err) // reads "vchip: invalid config: max_le must be …"
	}
	return nil
}

// specimenFlags describe the specimen served without --dataset.
type specimenFlags struct {
	dg2Size int
	seed    uint64
	pace    string // PACE offers, comma-separated PROTOCOL/DOMAIN
	can     string
	cam     bool
	ca      string // Chip Authentication domain, "" for none
	caCiph  string
	aa      string // Active Authentication key, "" for none
	aaHash  string
}

func addSpecimenFlags(fs *flag.FlagSet) *specimenFlags {
	s := &specimenFlags{}
	fs.IntVar(&s.dg2Size, "dg2-size", vchip.DefaultDG2Size, "size of the specimen's DG2 in `BYTES`")
	fs.Uint64Var(&s.seed, "seed", 0, "seed of the specimen's synthetic face")
	fs.StringVar(&s.pace, "pace", "", "offer PACE with these protocols in EF.CardAccess (and DG14), a comma-separated `LIST` of PROTOCOL/DOMAIN such as ECDH-GM-AES-128/brainpoolP256r1, ECDH-IM-AES-256/P-521 or DH-GM-AES-128/2")
	fs.StringVar(&s.can, "can", "", "accept this Card Access Number (6 digits) as a PACE password besides the MRZ")
	fs.StringVar(&s.ca, "ca", "", "offer Chip Authentication in DG14 with a key on these `DOMAIN` parameters: a standardized ID (0-2 DH, 8-18 ECDH) or a name such as brainpoolP256r1, P-256 or MODP-2048-224")
	fs.StringVar(&s.caCiph, "ca-cipher", "AES-128", "cipher of --ca: 3DES, AES-128, AES-192, AES-256, or none to omit ChipAuthenticationInfo")
	fs.StringVar(&s.aa, "aa", "", "offer Active Authentication with a DG15 `KEY`: rsa-1024, rsa-2048 or a curve such as P-256 or brainpoolP256r1")
	fs.StringVar(&s.aaHash, "aa-hash", "", "hash of --aa signatures: SHA-1 (RSA default, trailer BC), SHA-256 (ECDSA default) …")
	fs.BoolVar(&s.cam, "cam", false, "offer PACE-CAM too (ECDH-CAM-AES-128 on the curve of the first ECDH --pace offer, else brainpoolP256r1), with a chip key whose public key DG14 holds")
	return s
}

// config returns the specimen configuration the flags ask for.
func (s *specimenFlags) config() (vchip.SpecimenConfig, error) {
	cfg := vchip.SpecimenConfig{DG2Size: s.dg2Size, Seed: s.seed, CAN: s.can}
	if s.dg2Size < 4000 || s.dg2Size > 4_000_000 {
		return cfg, usagef("--dg2-size must be 4000 to 4000000")
	}
	if s.pace != "" {
		infos, err := vchip.ParsePACEInfos(s.pace)
		if err != nil {
			return cfg, usagef("--pace: %v", err)
		}
		cfg.PACE = infos
	}
	if s.cam && !slices.ContainsFunc(cfg.PACE, func(i pace.Info) bool { return i.Mapping() == pace.ChipAuthenticationMapping }) {
		cam, err := vchip.ParsePACEInfo("ECDH-CAM-AES-128/" + camDomain(cfg.PACE))
		if err != nil {
			return cfg, usagef("--cam: %v", err)
		}
		cfg.PACE = append(cfg.PACE, cam)
	}
	if s.can != "" && len(cfg.PACE) == 0 {
		return cfg, usagef("--can needs PACE: give --pace or --cam")
	}
	var err error
	if cfg.ChipAuth, err = s.chipAuth(); err != nil {
		return cfg, err
	}
	cfg.ActiveAuth, err = s.activeAuth()
	return cfg, err
}

// chipAuth returns the --ca specimen option.
func (s *specimenFlags) chipAuth() (*vchip.ChipAuthSpec, error) {
	if s.ca == "" {
		return nil, nil
	}
	id, ok := domainID(s.ca)
	if !ok {
		return nil, usagef("--ca: unknown domain parameters %q", s.ca)
	}
	spec := &vchip.ChipAuthSpec{ParameterID: id}
	if strings.EqualFold(s.caCiph, "none") {
		return spec, nil
	}
	for c := chipauth.TDES; c <= chipauth.AES256; c++ {
		if strings.EqualFold(c.String(), s.caCiph) {
			spec.Ciphers = []chipauth.Cipher{c}
			return spec, nil
		}
	}
	return nil, usagef("--ca-cipher must be 3DES, AES-128, AES-192, AES-256 or none")
}

// activeAuth returns the --aa specimen option.
func (s *specimenFlags) activeAuth() (*vchip.ActiveAuthSpec, error) {
	if s.aa == "" {
		return nil, nil
	}
	spec := &vchip.ActiveAuthSpec{}
	if s.aaHash != "" {
		h, ok := hashNamed(s.aaHash)
		if !ok {
			return nil, usagef("--aa-hash must be SHA-1, SHA-224, SHA-256, SHA-384 or SHA-512")
		}
		spec.Hash = h
	}
	if bits, ok := strings.CutPrefix(strings.ToLower(s.aa), "rsa-"); ok {
		n, err := strconv.Atoi(bits)
		if err != nil || n < 1024 || n > 4096 {
			return nil, usagef("--aa rsa-BITS needs 1024 to 4096 bits")
		}
		spec.RSABits = n
		return spec, nil
	}
	id, ok := domainID(s.aa)
	if _, curve := group.CurveByID(id); !ok || !curve {
		return nil, usagef("--aa: unknown key %q", s.aa)
	}
	spec.ParameterID = id
	return spec, nil
}

// domainID resolves a standardized domain parameter ID or name (9303-11
// §9.5.1).
func domainID(s string) (int, bool) {
	if id, err := strconv.Atoi(s); err == nil {
		_, c := group.CurveByID(id)
		_, d := group.DHByID(id)
		return id, c || d
	}
	for id := range 19 {
		if c, ok := group.CurveByID(id); ok && strings.EqualFold(c.Name(), s) {
			return id, true
		}
		if d, ok := group.DHByID(id); ok && strings.EqualFold(d.Name(), s) {
			return id, true
		}
	}
	return 0, false
}

func hashNamed(s string) (crypto.Hash, bool) {
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA224, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		if strings.EqualFold(h.String(), s) {
			return h, true
		}
	}
	return 0, false
}

// camDomain is the curve --cam offers CAM on: that of the first ECDH
// offer, else brainpoolP256r1, the curve of most PACE documents.
func camDomain(offers []pace.Info) string {
	for _, o := range offers {
		if o.KeyAgreement() == pace.ECDH {
			return strconv.Itoa(o.ParameterID)
		}
	}
	return "brainpoolP256r1"
}

// runChip serves a virtual passport to the vpcd reader until ctx ends, or
// with --generate writes a specimen dataset and returns.
func runChip(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chip")
	dataset := fs.String("dataset", "", "serve the dataset in `DIR` (EF.COM, EF.SOD, DG1, DG2 …, optional EF.CardAccess and chip.json; the layout read --out writes); default: the ICAO specimen")
	slot := fs.Int("slot", 0, "vpcd reader slot: 0 is \"Virtual PCD 00 00\", 1 \"Virtual PCD 00 01\"")
	addr := fs.String("vpcd", "", "vpcd address `HOST:PORT` (instead of --slot)")
	generate := fs.String("generate", "", "write a specimen dataset into `DIR` (with the CAN, chip key and quirk flags in chip.json) and exit")
	reinsert := fs.Duration("reinsert", 0, "after --remove-after took the card away, put it back after this long (0: never)")
	sf := addSpecimenFlags(fs)
	q := addQuirkFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case set["vpcd"] && set["slot"]:
		return usagef("give --slot or --vpcd, not both")
	case *slot < 0:
		return usagef("--slot must not be negative")
	case *dataset != "" && (*generate != "" || set["dg2-size"] || set["seed"] || set["pace"] || set["cam"] || set["ca"] || set["aa"]):
		return usagef("--dataset serves a dataset as it is: --generate, --dg2-size, --seed, --pace, --cam, --ca and --aa make a specimen")
	}
	ds, what, err := chipDataset(*dataset, sf)
	if err != nil {
		return err
	}
	if err := q.apply(fs, &ds.Config); err != nil {
		return err
	}
	if *generate != "" {
		if err := ds.WriteDir(*generate); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote %s to %s (DG2 %d bytes)\n", what, *generate, len(ds.Files["DG2"]))
		return nil
	}
	return serveChip(ctx, e, ds, what, *addr, *slot, *reinsert)
}

// chipDataset loads the dataset in dir, with --can overriding its CAN, or
// builds a specimen.
func chipDataset(dir string, sf *specimenFlags) (*vchip.Dataset, string, error) {
	if dir != "" {
		ds, err := vchip.LoadDir(dir)
		if err == nil && sf.can != "" {
			ds.CAN = sf.can // New checks it
		}
		return ds, "dataset " + dir, err
	}
	cfg, err := sf.config()
	if err != nil {
		return nil, "", err
	}
	ds, err := vchip.Specimen(cfg)
	if err != nil {
		return nil, "", err
	}
	what := "the ICAO specimen passport"
	if len(cfg.PACE) > 0 {
		what += " with PACE " + offerList(cfg.PACE)
	}
	switch {
	case cfg.ChipAuth != nil && cfg.ActiveAuth != nil:
		what += " with chip and active authentication"
	case cfg.ChipAuth != nil:
		what += " with chip authentication"
	case cfg.ActiveAuth != nil:
		what += " with active authentication"
	}
	return ds, what, nil
}

// offerList names PACE offers as --pace spells them.
func offerList(infos []pace.Info) string {
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = vchip.FormatPACEInfo(info)
	}
	return strings.Join(names, ",")
}

// serveChip inserts the chip into vpcd and serves it until ctx ends.
func serveChip(ctx context.Context, e *env, ds *vchip.Dataset, what, addr string, slot int, reinsert time.Duration) error {
	p, err := vchip.New(ds, nil)
	if err != nil {
		return err
	}
	if offers := p.PACEInfos(); len(offers) > 0 && !strings.Contains(what, " with PACE ") {
		what += " with PACE " + offerList(offers)
	}
	if addr == "" {
		addr = vpcd.Addr(slot)
	}
	cfg := &vchip.ServeConfig{
		Reinsert: reinsert,
		Inserted: func() {
			fmt.Fprintf(e.stdout, "inserted %s into the vpcd reader at %s; interrupt to remove it\n", what, addr)
		},
	}
	return vchip.Serve(ctx, addr, p, cfg) // nil once interrupted
}
