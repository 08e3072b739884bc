package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/nfcbridge/nfcbridge/icao"
	"github.com/nfcbridge/nfcbridge/vchip"
	"github.com/nfcbridge/nfcbridge/vpcd"
)

// quirkFlags are the command-line switches for vchip.Config; only the
// flags given override the dataset's chip.json.
type quirkFlags struct {
	noExtended, noShortEF, noBAC, eof6282 bool
	maxLe, removeAfter                    int
	overLe                                string
	latency                               time.Duration
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

// runChip serves a virtual passport to the vpcd reader until ctx ends, or
// with --generate writes a specimen dataset and returns.
func runChip(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "chip")
	dataset := fs.String("dataset", "", "serve the dataset in `DIR` (EF.COM, EF.SOD, DG1, DG2 …, optional chip.json; the layout read --out writes); default: the ICAO specimen")
	slot := fs.Int("slot", 0, "vpcd reader slot: 0 is \"Virtual PCD 00 00\", 1 \"Virtual PCD 00 01\"")
	addr := fs.String("vpcd", "", "vpcd address `HOST:PORT` (instead of --slot)")
	generate := fs.String("generate", "", "write a specimen dataset into `DIR` (with the quirk flags in chip.json) and exit")
	dg2Size := fs.Int("dg2-size", vchip.DefaultDG2Size, "size of the specimen's DG2 in `BYTES`")
	seed := fs.Uint64("seed", 0, "seed of the specimen's synthetic face")
	reinsert := fs.Duration("reinsert", 0, "after --remove-after took the card away, put it back after this long (0: never)")
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
	case *dataset != "" && (*generate != "" || set["dg2-size"] || set["seed"]):
		return usagef("--dataset serves a dataset as it is: --generate, --dg2-size and --seed make a specimen")
	}
	ds, what, err := chipDataset(*dataset, *dg2Size, *seed)
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

// chipDataset loads the dataset in dir, or builds a specimen.
func chipDataset(dir string, dg2Size int, seed uint64) (*vchip.Dataset, string, error) {
	if dir != "" {
		ds, err := vchip.LoadDir(dir)
		return ds, "dataset " + dir, err
	}
	if dg2Size < 4000 || dg2Size > 4_000_000 {
		return nil, "", usagef("--dg2-size must be 4000 to 4000000")
	}
	ds, err := vchip.Specimen(vchip.SpecimenConfig{DG2Size: dg2Size, Seed: seed})
	return ds, "the ICAO specimen passport", err
}

// serveChip inserts the chip into vpcd and serves it until ctx ends.
func serveChip(ctx context.Context, e *env, ds *vchip.Dataset, what, addr string, slot int, reinsert time.Duration) error {
	p, err := vchip.New(ds, nil)
	if err != nil {
		return err
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
