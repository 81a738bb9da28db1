package splash

import (
	"fmt"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/text/unicode/norm"

	"github.com/bootsplash/bootsplash/text"
)

// simpleText reports whether face draws s as it is, one glyph per
// character with kerning, as the splash always has: Latin, Greek and
// Cyrillic letters without combining marks, and common punctuation,
// that the face has. Such text keeps that fast path; any other text
// (other scripts, combining marks, right-to-left, characters the font
// lacks) goes through package text, which shapes it and falls back to
// other fonts.
func simpleText(face font.Face, s string) bool {
	for _, c := range s {
		switch {
		case c < 0x0300, c >= 0x0370 && c < 0x0483, c >= 0x048a && c < 0x0530,
			c >= 0x2010 && c < 0x2028, c >= 0x2030 && c < 0x205f, c == 0x20ac:
		default:
			return false
		}
		if _, ok := face.GlyphAdvance(c); !ok {
			return false
		}
	}
	return true
}

// composed returns s in Unicode's composed form (NFC), so a base and a
// combining mark that a font has as one character (e and U+0301 as é)
// take the fast path when that is all s needs.
func composed(s string) string {
	if norm.NFC.IsNormalString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// shaped returns the shaper and the shaped line of s for tl, or a nil
// line when face draws s on the fast path. A line break in a message is
// a space: the line is one line.
func (r *Renderer) shaped(tl *textLayout, face font.Face, s string) (*text.Shaper, *text.Line, error) {
	if simpleText(face, s) {
		return nil, nil, nil
	}
	sh, err := r.shaper(tl)
	if err != nil {
		return nil, nil, err
	}
	s = strings.Map(func(c rune) rune {
		if c == '\n' || c == '\r' || c == '\u2028' || c == '\u2029' {
			return ' '
		}
		return c
	}, s)
	ls := sh.Layout(s, text.Options{})
	if len(ls) == 0 {
		return sh, &text.Line{}, nil
	}
	return sh, &ls[0], nil
}

// shaper returns the text line's shaper: its font, its fallback fonts,
// then the system's (scanned only when a character is missing from
// those) and the embedded font, at its size.
func (r *Renderer) shaper(tl *textLayout) (*text.Shaper, error) {
	k := shaperKey{tl.font, strings.Join(tl.fonts, "\x00"), tl.px}
	if sh := r.shapers[k]; sh != nil {
		return sh, nil
	}
	var faces []*text.Face
	for _, name := range append([]string{tl.font}, tl.fonts...) {
		data, err := r.theme.FontData(name)
		if err != nil {
			return nil, err
		}
		f, err := text.ParseFont(data)
		if err != nil {
			return nil, fmt.Errorf("font %s: %w", name, err)
		}
		faces = append(faces, f)
	}
	if r.sysFonts == nil {
		r.sysFonts = text.NewSystemFonts("")
	}
	fonts, err := text.NewFonts(faces, r.sysFonts)
	if err != nil {
		return nil, err
	}
	sh := text.NewShaper(fonts, tl.px, "")
	if r.shapers == nil {
		r.shapers = make(map[shaperKey]*text.Shaper)
	}
	r.shapers[k] = sh
	return sh, nil
}

// shaperKey names a shaper: a text line's fonts at a pixel size.
type shaperKey struct {
	font, fonts string
	px          float64
}
