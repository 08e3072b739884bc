package testvectors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
)

// KeyPaths lists the key paths of a JSON document, sorted and each once:
// object keys joined with '.', array elements written "[]" (so
// "apdus[].command_hex"). A key that occurs twice in one object is an
// error, since encoding/json would silently keep the last one.
func KeyPaths(doc []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	seen := map[string]bool{}
	if err := walk(dec, "", seen); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the top-level value")
	}
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths, nil
}

// walk reads one value from dec and records the key paths under prefix.
func walk(dec *json.Decoder, prefix string, seen map[string]bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		keys := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string) // object keys are always strings
			if keys[k] {
				return fmt.Errorf("key %q occurs twice", join(prefix, k))
			}
			keys[k] = true
			seen[join(prefix, k)] = true
			if err := walk(dec, join(prefix, k), seen); err != nil {
				return err
			}
		}
		_, err = dec.Token() // '}'
		return err
	case json.Delim('['):
		for dec.More() {
			if err := walk(dec, prefix+"[]", seen); err != nil {
				return err
			}
		}
		_, err = dec.Token() // ']'
		return err
	}
	return nil
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// requireFields fails when a struct field of t (through pointers, slices
// and nested structs) has no key in the decoded value v. Fields tagged
// omitempty, untagged or tagged "-" may be absent.
func requireFields(path string, t reflect.Type, v any) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		items, ok := v.([]any)
		if !ok || t.Elem().Kind() == reflect.Uint8 {
			return nil // a byte string (HexBytes) or a type mismatch that Decode reported
		}
		for _, it := range items {
			if err := requireFields(path+"[]", t.Elem(), it); err != nil {
				return err
			}
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			sub, present := obj[name]
			if !present {
				if strings.Contains(opts, "omitempty") {
					continue
				}
				return fmt.Errorf("field %s of the test has no key %q in the file", f.Name, join(path, name))
			}
			if err := requireFields(join(path, name), f.Type, sub); err != nil {
				return err
			}
		}
	}
	return nil
}
