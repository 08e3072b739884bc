package kiosk

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// checkStrict walks the JSON in b token by token before it is decoded into
// a value of type t, and refuses what encoding/json would accept silently:
// a key given twice (the last one wins) and a key that matches a field only
// when case is ignored. A validating proxy in front of the daemon reads
// such a body differently from the daemon (RFC 8259 section 4 leaves
// duplicate names to the implementation), so neither may pass. Unknown
// fields are refused here too, with their full path. Errors name the field,
// never a value.
func checkStrict(b []byte, t reflect.Type) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // numbers beyond float64 are a type error later, not here
	tok, err := d.Token()
	if err != nil {
		return invalid("", "the body is not valid JSON")
	}
	if tok != json.Delim('{') {
		return invalid("", "the body must be a JSON object such as {\"sessionId\": \"…\", \"mrz\": \"…\"}, not %s", kindOf(tok))
	}
	if err := walkObject(d, t, ""); err != nil {
		return err
	}
	return nil
}

// walkValue reads one value whose Go type is t (nil: any).
func walkValue(d *json.Decoder, t reflect.Type, path string) error {
	tok, err := d.Token()
	if err != nil {
		return invalid("", "the body is not valid JSON")
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(d, t, path)
	case json.Delim('['):
		var elem reflect.Type
		if t = deref(t); t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for d.More() {
			if err := walkValue(d, elem, path); err != nil {
				return err
			}
		}
		if _, err := d.Token(); err != nil {
			return invalid("", "the body is not valid JSON")
		}
	}
	return nil
}

// echoable returns key if it may appear in an error, which the client and
// logs see: a name spelled like a field (lower-case ASCII letter first,
// then letters, at most 32). Anything else could be data sent as a key (a
// document number, a name) and is replaced by "(a field)".
func echoable(key string) string {
	if len(key) == 0 || len(key) > 32 || key[0] < 'a' || key[0] > 'z' {
		return "(a field)"
	}
	for _, c := range key {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return "(a field)"
		}
	}
	return key
}

// walkObject reads the members of an object up to its closing brace; the
// opening brace is read.
func walkObject(d *json.Decoder, t reflect.Type, path string) error {
	fields := jsonFields(t)
	seen := map[string]string{} // folded name → name as given
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return invalid("", "the body is not valid JSON")
		}
		key, _ := tok.(string)
		name := join(path, echoable(key))
		if _, ok := fields[strings.ToLower(key)]; ok {
			name = join(path, key) // a documented name, perhaps in another case
		}
		if prev, ok := seen[strings.ToLower(key)]; ok {
			if prev == key {
				return invalid(name, "%s is given twice; give each field once", name)
			}
			return invalid(name, "%s and %s differ only in case; give each field once, spelled as documented", join(path, echoable(prev)), name)
		}
		seen[strings.ToLower(key)] = key
		var ft reflect.Type
		if fields != nil {
			f, ok := fields[strings.ToLower(key)]
			switch {
			case !ok:
				return invalid(name, "unknown field %q", name)
			case f.name != key:
				return invalid(name, "field names are case-sensitive: %s must be spelled %s", name, join(path, f.name))
			}
			ft = f.typ
		} else if t = deref(t); t != nil && t.Kind() == reflect.Map {
			ft = t.Elem()
		}
		if err := walkValue(d, ft, name); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil {
		return invalid("", "the body is not valid JSON")
	}
	return nil
}

type field struct {
	name string
	typ  reflect.Type
}

// jsonFields maps the folded JSON name of each field of struct type t to
// its exact name and type; nil if t is not a struct.
func jsonFields(t reflect.Type) map[string]field {
	t = deref(t)
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	m := map[string]field{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		m[strings.ToLower(name)] = field{name, sf.Type}
	}
	return m
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// kindOf names a JSON token for a sentence: "an array", "a string" …
func kindOf(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "true or false"
	}
	return "null"
}
