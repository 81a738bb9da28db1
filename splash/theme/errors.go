package theme

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// Error is a mistake in a theme file: the file, the line (0 when it
// is not known) and the key ("progress.color") it is about.
type Error struct {
	File string
	Line int
	Key  string
	Err  error
}

// Error reads "theme.toml:12: progress.color: ...".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every mistake found in one theme file, in line order.
type Errors []*Error

// Error lists the mistakes, one per line.
func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap returns the individual errors.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// decodeErrors turns the TOML library's errors into Errors.
func decodeErrors(file string, err error) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var es Errors
		for i := range strict.Errors {
			e := &strict.Errors[i]
			line, _ := e.Position()
			es = append(es, &Error{File: file, Line: line, Key: strings.Join(e.Key(), "."), Err: errors.New("unknown key")})
		}
		return es
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if strings.HasPrefix(msg, "cannot decode ") || strings.HasPrefix(msg, "cannot store ") {
			// The library names Go's types ("struct field
			// theme.Text.Size of type float64"): say what the
			// key takes instead.
			if want := wantType(reflect.TypeFor[themeFile](), de.Key()); want != "" {
				msg = "want " + want
			}
		}
		return Errors{{File: file, Line: line, Key: strings.Join(de.Key(), "."), Err: errors.New(msg)}}
	}
	return Errors{{File: file, Err: err}}
}

// wantType says what kind of TOML value the key path takes in a value of
// type t: "a number", "a whole number", "a string", "an array of numbers",
// "a table"; "" when the path leads nowhere.
func wantType(t reflect.Type, key []string) string {
	for len(key) > 0 {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t, key = t.Elem(), key[1:]
			continue
		case reflect.Struct:
			f, ok := tomlField(t, key[0])
			if !ok {
				return ""
			}
			t, key = f, key[1:]
			continue
		}
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		if w := wantType(t.Elem(), nil); strings.HasPrefix(w, "a ") {
			return "an array of " + strings.TrimPrefix(w, "a ") + "s"
		}
		return "an array"
	case reflect.Struct, reflect.Map:
		return "a table"
	}
	return ""
}

// tomlField returns the type of the field of struct t tagged name,
// looking into embedded structs.
func tomlField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name {
			return f.Type, true
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if ft, ok := tomlField(f.Type, name); ok {
				return ft, true
			}
		}
	}
	return nil, false
}

// keyLines maps every dotted key of a TOML document ("progress.color",
// "override.480x272.logo.y") to the line it is set on.
func keyLines(data []byte) map[string]int {
	lines := make(map[string]int)
	var p unstable.Parser
	p.Reset(data)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		var parts []string
		it := e.Key()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			for it.Next() {
				parts = append(parts, string(it.Node().Data))
			}
			table = parts
			k := strings.Join(parts, ".")
			if _, ok := lines[k]; !ok {
				lines[k] = 1 + bytes.Count(data[:tableOffset(e)], []byte("\n"))
			}
			continue
		case unstable.KeyValue:
			parts = append(parts, table...)
			for it.Next() {
				parts = append(parts, string(it.Node().Data))
			}
		default:
			continue
		}
		lines[strings.Join(parts, ".")] = 1 + bytes.Count(data[:e.Raw.Offset], []byte("\n"))
	}
	return lines
}

// tableOffset returns where a table header's first key starts.
func tableOffset(e *unstable.Node) uint32 {
	it := e.Key()
	if it.Next() {
		return it.Node().Raw.Offset
	}
	return 0
}
