package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/nfcbridge/nfcbridge/mrtd"
	"github.com/nfcbridge/nfcbridge/pki"
)

// trustFlags are --trust (repeatable) and --authenticity, shared by read,
// verify and serve.
type trustFlags struct {
	paths  listFlag
	policy string
}

func addTrustFlags(fs *flag.FlagSet, withPolicy bool) *trustFlags {
	t := &trustFlags{}
	fs.Var(&t.paths, "trust", "trust anchors for passive authentication: a CSCA certificate (.cer .crt .der .pem), a CSCA master list (.ml), an ICAO PKD LDIF file, a CRL (.crl), or a directory of them (repeatable)")
	if withPolicy {
		fs.StringVar(&t.policy, "authenticity", "strict", "strict: a forged or cloned document (hash mismatch, bad signature, revoked signer, other State, failed chip or active authentication) fails the read and nothing is uploaded; report: upload it and report")
	}
	return t
}

// policy parses --authenticity.
func (t *trustFlags) parsePolicy() (mrtd.Policy, error) {
	p, err := mrtd.ParsePolicy(t.policy)
	if err != nil {
		return 0, usagef("--authenticity must be strict or report")
	}
	return p, nil
}

// load builds the trust store from the --trust paths. A path that cannot
// be read at all is an error; a file refused (a master list whose
// signature fails) is in the reports, named.
func (t *trustFlags) load() (*pki.Store, []pki.LoadReport, error) {
	s := &pki.Store{}
	var all []pki.LoadReport
	for _, p := range t.paths {
		reports, err := s.LoadPath(p)
		all = append(all, reports...)
		if err != nil {
			return nil, all, fmt.Errorf("--trust %s: %w", p, err)
		}
	}
	return s, all, nil
}

// logTrust logs what each trust file gave.
func logTrust(log *slog.Logger, reports []pki.LoadReport) {
	for _, r := range reports {
		level := slog.LevelInfo
		if r.Error != "" {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "trust file", "path", r.Path, "kind", r.Kind, "cscas", r.CSCAs, "crls", r.CRLs,
			"signers", len(r.Signers), "warnings", len(r.Warnings), "error", r.Error)
	}
}

// printTrust writes the load reports for a person.
func printTrust(w io.Writer, reports []pki.LoadReport) {
	for _, r := range reports {
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "  trust %s: REFUSED: %s\n", r.Path, r.Error)
		default:
			fmt.Fprintf(w, "  trust %s: %s, %d CSCAs, %d CRLs", r.Path, r.Kind, r.CSCAs, r.CRLs)
			for _, s := range r.Signers {
				name := "an unknown signer"
				if s.Signer != nil {
					name = s.Signer.Subject.String()
				}
				fmt.Fprintf(w, "; signed by %s", name)
				if s.Chained {
					fmt.Fprint(w, " (chains to a CSCA given)")
				} else {
					fmt.Fprint(w, " (does not chain to a CSCA given)")
				}
			}
			fmt.Fprintln(w)
		}
	}
}

// printAuthenticity writes the verdicts for a person, as mrtd decided them.
func printAuthenticity(w io.Writer, a mrtd.Authenticity) {
	p := a.Passive
	status := string(p.Status)
	if status == "" {
		status = "not run"
	}
	line := "  passive authentication: " + status
	if p.Reason != "" {
		line += " (" + p.Reason + ")"
	}
	fmt.Fprintln(w, line)
	if p.Status == pki.StatusNoTrustAnchor {
		fmt.Fprintln(w, "    nothing chains the document signer to a CSCA you gave (--trust): the signature is checked, the issuer is not")
	}
	chip := a.Chip.Outcome.String()
	if a.Chip.Method != "" {
		chip += " (" + string(a.Chip.Method) + ")"
	}
	if a.Chip.Reason != "" {
		chip += ": " + a.Chip.Reason
	}
	fmt.Fprintln(w, "  chip authentication:", chip)
	active := a.Active.Outcome.String()
	if a.Active.Reason != "" {
		active += ": " + a.Active.Reason
	}
	fmt.Fprintln(w, "  active authentication:", active)
	if prob := a.Problem(); prob != nil {
		fmt.Fprintln(w, "  NOT AUTHENTIC:", prob.Reason)
	}
}
