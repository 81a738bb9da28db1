package theme

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
)

// FrameNames expands a spinner's frames pattern (a glob relative to the
// theme) to the sorted frame file names.
func (t *Theme) FrameNames(pattern string) ([]string, error) {
	if pattern == "" {
		return nil, errors.New("empty pattern")
	}
	if names, ok := t.globs[pattern]; ok {
		return names, nil
	}
	if t.dir == "" {
		return nil, errors.New("the embedded theme has no spinner frames")
	}
	dir := t.dir
	full := pattern
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, pattern)
	}
	names, err := filepath.Glob(full)
	if err != nil {
		return nil, fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no such files", pattern)
	}
	sort.Strings(names)
	if !filepath.IsAbs(pattern) {
		// Name the frames as the theme does: relative to its directory.
		for i, n := range names {
			if rel, err := filepath.Rel(dir, n); err == nil {
				names[i] = rel
			}
		}
	}
	return names, nil
}

// fileRef is a file a theme names, and the key that names it.
type fileRef struct {
	key  string // "logo.image", "override.800x480.spinner.frames"
	line int    // the key's line, once known
	name string // as the theme gives it; "" for the embedded font
	font bool
}

// files lists the files the theme names in every section, with the keys
// naming them: images (the spinner's frames expanded) and fonts ("" for
// the embedded one).
func (t *Theme) files() (refs []fileRef, globs map[string][]string, err error) {
	globs = map[string][]string{}
	for _, k := range t.all() {
		s := k.s
		if s.Background != nil && s.Background.Image != nil {
			refs = append(refs, fileRef{key: k.prefix + "background.image", name: *s.Background.Image})
		}
		if s.Logo != nil && s.Logo.Image != nil {
			refs = append(refs, fileRef{key: k.prefix + "logo.image", name: *s.Logo.Image})
		}
		if s.Spinner != nil && s.Spinner.Frames != nil {
			names, err := t.FrameNames(*s.Spinner.Frames)
			if err != nil {
				return nil, nil, err
			}
			for _, n := range names {
				refs = append(refs, fileRef{key: k.prefix + "spinner.frames", name: n})
			}
			globs[*s.Spinner.Frames] = names
		}
		for _, tx := range []struct {
			name string
			f    *Text
		}{{"message", s.Message}, {"status", s.Status}, {"secure_boot", secureBootLine(s)}} {
			if tx.f == nil {
				continue
			}
			name := ""
			if tx.f.Font != nil {
				name = *tx.f.Font
			}
			refs = append(refs, fileRef{key: k.prefix + tx.name + ".font", name: name, font: true})
			if tx.f.Fonts != nil {
				for _, n := range *tx.f.Fonts {
					refs = append(refs, fileRef{key: k.prefix + tx.name + ".fonts", name: n, font: true})
				}
			}
		}
		if pr := s.Prompt; pr != nil {
			name := ""
			if pr.Font != nil {
				name = *pr.Font
			}
			refs = append(refs, fileRef{key: k.prefix + "prompt.font", name: name, font: true})
			if pr.Fonts != nil {
				for _, n := range *pr.Fonts {
					refs = append(refs, fileRef{key: k.prefix + "prompt.fonts", name: n, font: true})
				}
			}
		}
	}
	return refs, globs, nil
}

// placed makes err, found reading the file name, an Error naming the
// theme file, the line and the key that names it.
func (t *Theme) placed(name string, err error) *Error {
	var te *Error
	if errors.As(err, &te) {
		return te
	}
	r := t.refs[name]
	return &Error{File: t.fileName(), Line: r.line, Key: r.key, Err: err}
}

// fileName names the theme file in errors.
func (t *Theme) fileName() string {
	if t.File == "" {
		return "(default theme)"
	}
	return t.File
}

// placedErr is placed for a caller that returns an error: nil stays nil.
func (t *Theme) placedErr(name string, err error) error {
	if err == nil {
		return nil
	}
	return t.placed(name, err)
}

// Inputs are the files a theme's first frame is drawn from, for a frame
// drawn ahead of time to be checked against (package firstframe).
type Inputs struct {
	// Files are the theme file and every image any section names, as
	// absolute, cleaned paths, sorted, each once.
	Files []string
	// Globs are the spinner's frame patterns, absolute: the files they
	// match, and in which order, choose the frames.
	Globs []string
	// FirmwareLogo says a section draws the firmware's logo (ACPI BGRT),
	// which is read from the firmware at boot, not from a file of the
	// theme's.
	FirmwareLogo bool
	// SecureBootLine says a section has a [secure_boot] line, drawn or
	// not by what the firmware says at boot.
	SecureBootLine bool
}

// FirstFrameInputs lists what the theme's first frame (the initial
// state: no message, status or prompt, so no text and no font) is drawn
// from. The embedded theme has none: the binary holds it.
func (t *Theme) FirstFrameInputs() (Inputs, error) {
	var in Inputs
	if t.dir == "" {
		return in, nil
	}
	abs := func(name string) (string, error) {
		if !filepath.IsAbs(name) {
			name = filepath.Join(t.dir, name)
		}
		return filepath.Abs(name)
	}
	seen := map[string]bool{}
	add := func(name string) error {
		p, err := abs(name)
		if err != nil {
			return err
		}
		if !seen[p] {
			seen[p] = true
			in.Files = append(in.Files, p)
		}
		return nil
	}
	if err := add(t.File); err != nil {
		return in, err
	}
	globs := map[string]bool{}
	for _, k := range t.all() {
		s := k.s
		if s.Background != nil && s.Background.Image != nil {
			if err := add(*s.Background.Image); err != nil {
				return in, err
			}
		}
		if s.Logo != nil {
			if s.Logo.Image != nil {
				if err := add(*s.Logo.Image); err != nil {
					return in, err
				}
			}
			if s.Logo.Firmware != nil && *s.Logo.Firmware {
				in.FirmwareLogo = true
			}
		}
		if s.SecureBoot != nil {
			in.SecureBootLine = true
		}
		if s.SecureBoot != nil {
			in.SecureBootLine = true
		}
		if s.Spinner != nil && s.Spinner.Frames != nil {
			names, err := t.FrameNames(*s.Spinner.Frames)
			if err != nil {
				return in, err
			}
			for _, n := range names {
				if err := add(n); err != nil {
					return in, err
				}
			}
			p, err := abs(*s.Spinner.Frames)
			if err != nil {
				return in, err
			}
			if !globs[p] {
				globs[p] = true
				in.Globs = append(in.Globs, p)
			}
		}
	}
	sort.Strings(in.Files)
	sort.Strings(in.Globs)
	return in, nil
}
