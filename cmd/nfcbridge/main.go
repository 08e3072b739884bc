// Document signer certificates with negative serial numbers exist on issued
// passports; Go rejects them by default since 1.23, which would leave the
// EF.SOD signature of those documents unchecked.
//
//go:debug x509negativeserial=1

// Command nfcbridge reads ePassports over PC/SC and uploads them to the
// identity-verification vendor's session media endpoint.
//
// Usage:
//
//	nfcbridge readers [--json]
//	nfcbridge read [--reader NAME] (--mrz-file F | --mrz LINES | --document-number N --date-of-birth YYMMDD --date-of-expiry YYMMDD | --can NNNNNN) --out DIR [--json] [--timeout D] [--session-id ID]
//	nfcbridge verify --dir DIR [--trust PATH]... [--json]
//	nfcbridge upload --session-id ID --dir DIR
//	nfcbridge upload-image --session-id ID --context C FILE
//	nfcbridge serve [--listen ADDR] [--token-file F] [--state-dir DIR] [--api-url URL] [--allow-origin ORIGIN ...]
//	nfcbridge demo [--in-process] [--latency D]
//	nfcbridge chip [--dataset DIR] [--slot N] [--pace LIST] [--can NNNNNN] [quirk flags]
//	nfcbridge ui-url [serve's flags]
//	nfcbridge version
//
// serve reads its settings from /etc/nfcbridge/nfcbridge.conf too (see
// --config). Run "nfcbridge help" for the details of each command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// env is what a subcommand may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand: it parses its own flags from args.
type command struct {
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"readers":      {"list PC/SC readers and whether a card is present", runReaders},
		"read":         {"read a passport chip and write EF.COM, EF.SOD, DG1, DG2", runRead},
		"upload":       {"upload a read passport to the session media endpoint", runUpload},
		"upload-image": {"upload an image to the session media endpoint", runUploadImage},
		"chip":         {"serve the virtual passport chip to vpcd (for demos and tests)", runChip},
		"serve":        {"run the local API daemon a kiosk UI drives", runServe},
		"ui-url":       {"print the URL a kiosk browser opens for the daemon's reference page", runUIURL},
		"demo":         {"read the virtual specimen passport through the daemon's API, end to end", runDemo},
		"verify":       {"check a directory written by read --out without the chip: EF.SOD, DG14, EF.CardSecurity, active authentication", runVerify},
		"version":      {"print the version and commit the binary was built from", runVersion},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code. Failures are
// reported as one line on stderr.
func run(ctx context.Context, args []string, e *env) int {
	cmds := commands()
	if len(args) < 2 || args[1] == "help" || args[1] == "-h" || args[1] == "--help" {
		usage(e.stderr, cmds)
		if len(args) < 2 {
			return 2
		}
		return 0
	}
	if args[1] == "--version" || args[1] == "-version" {
		args = []string{args[0], "version"}
	}
	c, ok := cmds[args[1]]
	if !ok {
		fmt.Fprintf(e.stderr, "nfcbridge: unknown command %q (try \"nfcbridge help\")\n", args[1])
		return 2
	}
	err := c.run(ctx, e, args[2:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, new(usageError)):
		fmt.Fprintf(e.stderr, "nfcbridge %s: %v\n", args[1], err)
		return 2
	}
	fmt.Fprintf(e.stderr, "nfcbridge %s: %s\n", args[1], oneLine(explain(err)))
	return 1
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: nfcbridge COMMAND [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-13s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"nfcbridge COMMAND -h\" for a command's flags.")
}

// usageError marks a bad command line (exit code 2).
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("nfcbridge "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args and turns a flag error into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 && fs.Name() != "nfcbridge upload-image" {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
