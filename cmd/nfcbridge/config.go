package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// defaultConfigPath is the daemon's config file when neither --config nor
// $NFCBRIDGE_CONFIG names one. A missing default file is not an error.
const defaultConfigPath = "/etc/nfcbridge/nfcbridge.conf"

// maxConfigSize bounds the config file: it is a few dozen lines.
const maxConfigSize = 64 << 10

// setting is one "name = value" line of a config file.
type setting struct {
	line        int
	name, value string
}

// parseConfig reads "name = value" lines, where name is a long flag name
// without dashes. Blank lines and lines starting with # are skipped;
// the value is the rest of the line, trimmed (so it may hold spaces and #).
func parseConfig(r io.Reader) ([]setting, error) {
	var out []setting
	sc := bufio.NewScanner(io.LimitReader(r, maxConfigSize+1))
	n, size := 0, 0
	for sc.Scan() {
		n++
		size += len(sc.Bytes()) + 1
		if size > maxConfigSize {
			return nil, fmt.Errorf("larger than %d KiB", maxConfigSize>>10)
		}
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(text, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("line %d: want \"name = value\"", n)
		}
		out = append(out, setting{line: n, name: strings.TrimPrefix(name, "--"), value: strings.TrimSpace(value)})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d is too long", n+1)
		}
		return nil, err
	}
	return out, nil
}

// listFlag is a repeatable flag: each use adds a value. A config file may
// give it on several lines; a command-line use replaces them all.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// addConfigFlag adds --config to fs.
func addConfigFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "config `FILE` of \"name = value\" lines, names as the long flags (default: $NFCBRIDGE_CONFIG, else "+defaultConfigPath+" if it exists); flags override it")
}

// applyConfig sets, from the config file, every flag of fs that the command
// line did not set. explicit is --config: when empty, $NFCBRIDGE_CONFIG,
// else the default path, which may be missing.
func applyConfig(e *env, set *flag.FlagSet, explicit string) error {
	path, optional := explicit, false
	if path == "" {
		path = e.getenv("NFCBRIDGE_CONFIG")
	}
	if path == "" {
		path, optional = defaultConfigPath, true
	}
	f, err := os.Open(path)
	if optional && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return usagef("config: %v", err)
	}
	defer f.Close()
	settings, err := parseConfig(f)
	if err != nil {
		return usagef("config %s: %v", path, err)
	}
	return setFromConfig(set, path, settings)
}

// setFromConfig applies settings to the flags the command line left alone.
func setFromConfig(set *flag.FlagSet, path string, settings []setting) error {
	onCommandLine := map[string]bool{}
	set.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	seen := map[string]bool{}
	for _, s := range settings {
		fl := set.Lookup(s.name)
		if fl == nil || s.name == "config" {
			return usagef("config %s:%d: unknown setting %q", path, s.line, s.name)
		}
		_, repeatable := fl.Value.(*listFlag)
		if seen[s.name] && !repeatable {
			return usagef("config %s:%d: %q is set twice", path, s.line, s.name)
		}
		seen[s.name] = true
		if onCommandLine[s.name] {
			continue
		}
		if err := set.Set(s.name, s.value); err != nil {
			return usagef("config %s:%d: %s: %v", path, s.line, s.name, err)
		}
	}
	return nil
}
