package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nfcbridge/nfcbridge/reader"
)

// runReaders lists the PC/SC readers and whether each holds a card.
func runReaders(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "readers")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	p, err := reader.Open()
	if err != nil {
		return err
	}
	defer p.Close()
	list, err := p.Readers(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			Name        string `json:"name"`
			CardPresent bool   `json:"cardPresent"`
		}
		out := struct {
			Readers []row `json:"readers"`
		}{Readers: []row{}}
		for _, r := range list {
			out.Readers = append(out.Readers, row{r.Name, r.CardPresent})
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stdout, "no readers")
	}
	for _, r := range list {
		state := "no card"
		if r.CardPresent {
			state = "card present"
		}
		fmt.Fprintf(e.stdout, "%s\t%s\n", r.Name, state)
	}
	return nil
}
