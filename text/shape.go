package text

import (
	"unicode"

	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"
)

// Options say how a paragraph is laid out.
type Options struct {
	// MaxWidth is the width lines are broken at, in pixels; 0 or less is
	// one line however long.
	MaxWidth int
	// MaxLines is the number of lines kept; the last one kept ends in an
	// ellipsis when text was left out. 0 is no limit.
	MaxLines int
}

// Glyph is one shaped glyph of a line, placed relative to the line's
// origin (the left end of its baseline), in 26.6 pixels, y down.
type Glyph struct {
	Face *font.Face
	ID   font.GID
	// X and Y are where the glyph's origin goes.
	X, Y fixed.Int26_6
	// Advance is the glyph's advance (the width a missing glyph's box
	// takes).
	Advance fixed.Int26_6
	// Cluster is the index of the first rune of the glyph's cluster in
	// the paragraph.
	Cluster int
}

// Line is a laid-out line: its glyphs in visual order, left to right.
type Line struct {
	Glyphs []Glyph
	// Width is the shaped advance of the line: what it is centred and
	// aligned on.
	Width fixed.Int26_6
	// Runes is the range of the paragraph's runes on the line.
	Runes [2]int
}

// Shaper lays out paragraphs of text at one size with one chain of
// fonts, keeping the lines of the strings it laid out last and the
// masks of the glyphs it drew. It is not safe for concurrent use.
type Shaper struct {
	fonts *Fonts
	size  fixed.Int26_6
	lang  language.Language

	hb   shaping.HarfbuzzShaper
	seg  shaping.Segmenter
	wrap shaping.LineWrapper

	lines map[lineKey][]Line
	masks map[maskKey]*glyphMask
}

type lineKey struct {
	text string
	opt  Options
}

// maxCachedLines bounds the cache of laid-out strings, after which it
// starts over.
const maxCachedLines = 256

// NewShaper returns a shaper of fonts at px pixels per em. lang is the
// text's language as a BCP 47 tag ("" takes it from the environment, as
// Pango does); it picks language-specific glyph forms.
func NewShaper(fonts *Fonts, px float64, lang string) *Shaper {
	l := language.DefaultLanguage()
	if lang != "" {
		l = language.NewLanguage(lang)
	}
	return &Shaper{
		fonts: fonts,
		size:  fixed.Int26_6(px*64 + 0.5),
		lang:  l,
		lines: make(map[lineKey][]Line),
		masks: make(map[maskKey]*glyphMask),
	}
}

// Size returns the shaper's size in 26.6 pixels per em.
func (s *Shaper) Size() fixed.Int26_6 { return s.size }

// Fonts returns the shaper's font chain.
func (s *Shaper) Fonts() *Fonts { return s.fonts }

// Layout breaks text into lines as opt says and shapes them: each
// paragraph (ended by a line break) on lines of its own. Empty text has
// no lines. The result is cached: it must not
// be changed.
func (s *Shaper) Layout(text string, opt Options) []Line {
	k := lineKey{text, opt}
	if ls, ok := s.lines[k]; ok {
		return ls
	}
	ls := s.layout(text, opt)
	if len(s.lines) >= maxCachedLines {
		clear(s.lines)
	}
	s.lines[k] = ls
	return ls
}

// Direction returns the direction of a paragraph: that of its first
// strong character (rules P2 and P3 of the bidi algorithm, without
// isolates), left to right when it has none.
func Direction(runes []rune) di.Direction {
	for _, r := range runes {
		switch {
		case isRTL(r):
			return di.DirectionRTL
		case unicode.IsLetter(r):
			return di.DirectionLTR
		}
	}
	return di.DirectionLTR
}

// isRTL reports whether r is a strong right-to-left character.
func isRTL(r rune) bool {
	return unicode.In(r, unicode.Arabic, unicode.Hebrew, unicode.Syriac, unicode.Thaana, unicode.Nko,
		unicode.Samaritan, unicode.Mandaic, unicode.Adlam) && (unicode.IsLetter(r) || r == 0x200f)
}

func (s *Shaper) layout(text string, opt Options) []Line {
	// Composed first, as Pango does: a base and its mark that a font has
	// as one character (e and U+0301 as é) are drawn by that font even
	// when it lacks the combining mark. Clusters count the composed
	// text's runes.
	runes := []rune(norm.NFC.String(text))
	// Each paragraph (ended by a line break: LF, CR LF, CR, NEL, LS or
	// PS) is laid out on its own lines, as Pango does.
	var out []Line
	start := 0
	for i := 0; i <= len(runes); i++ {
		if i < len(runes) && !isParagraphEnd(runes[i]) {
			continue
		}
		left := 0
		if opt.MaxLines > 0 {
			if left = opt.MaxLines - len(out); left <= 0 {
				break
			}
		}
		more := i+1 < len(runes)
		out = append(out, s.paragraph(runes, start, i, opt.MaxWidth, left, more)...)
		if i+1 < len(runes) && runes[i] == '\r' && runes[i+1] == '\n' {
			i++
		}
		start = i + 1
	}
	return out
}

func isParagraphEnd(r rune) bool {
	return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029
}

// paragraph lays out runes[start:end] (with the rest of the text as
// context for shaping) in at most maxLines lines (0: no limit); more says
// text follows, so a cut last line gets its ellipsis.
func (s *Shaper) paragraph(runes []rune, start, end, maxWidth, maxLines int, more bool) (out []Line) {
	if start >= end {
		return []Line{{Runes: [2]int{start, start}}}
	}
	para := runes[start:end]
	dir := Direction(para)
	in := shaping.Input{
		Text:      para,
		RunStart:  0,
		RunEnd:    len(para),
		Direction: dir,
		Size:      s.size,
		Language:  s.lang,
	}
	s.fonts.last = nil
	var runs []shaping.Output
	for _, r := range s.seg.Split(in, s.fonts) {
		runs = append(runs, s.hb.Shape(r))
	}
	cfg := shaping.WrapConfig{Direction: dir, TruncateAfterLines: maxLines, TextContinues: more}
	if maxLines > 0 {
		ell := []rune{'…'}
		face := s.fonts.ResolveFace('…')
		cfg.Truncator = s.hb.Shape(shaping.Input{Text: ell, RunEnd: 1, Direction: dir, Face: face, Size: s.size, Language: s.lang})
	}
	width := fixed.Int26_6(1 << 30)
	if maxWidth > 0 {
		width = fixed.I(maxWidth)
	}
	defer func() {
		// The line wrapper of go-text v0.3.5 can index out of range on
		// some runs without glyphs; the paragraph is then one line in
		// logical order rather than a crashed splash.
		if recover() != nil {
			l, _ := flatten(runs, start)
			out = []Line{l}
		}
	}()
	wrapped, _ := s.wrap.WrapParagraphF(cfg, width, para, shaping.NewSliceIterator(runs))
	for _, wl := range wrapped {
		if l, ok := flatten(wl, start); ok {
			out = append(out, l)
		}
	}
	return out
}

// flatten puts a wrapped line's runs in visual order and its glyphs at
// their places; the paragraph starts at rune start of the text.
func flatten(wl shaping.Line, start int) (Line, bool) {
	if len(wl) == 0 {
		return Line{}, false
	}
	ordered := make([]*shaping.Output, len(wl))
	lo, hi := wl[0].Runes.Offset, wl[0].Runes.Offset
	for i := range wl {
		run := &wl[i]
		idx := int(run.VisualIndex)
		if idx < 0 || idx >= len(wl) || ordered[idx] != nil {
			idx = i // not expected: keep logical order
		}
		ordered[idx] = run
		lo = min(lo, run.Runes.Offset)
		hi = max(hi, run.Runes.Offset+run.Runes.Count)
	}
	var l Line
	l.Runes = [2]int{start + lo, start + hi}
	var x fixed.Int26_6
	for _, run := range ordered {
		if run == nil {
			continue
		}
		for _, g := range run.Glyphs {
			// Glyphs of a right-to-left run come in visual order too.
			l.Glyphs = append(l.Glyphs, Glyph{
				Face:    run.Face,
				ID:      g.GlyphID,
				X:       x + g.XOffset,
				Y:       -g.YOffset,
				Advance: g.Advance,
				Cluster: start + g.TextIndex(),
			})
			x += g.Advance
		}
	}
	l.Width = x
	return l, true
}

// Metrics returns the primary font's ascent and descent at the shaper's
// size, in 26.6 pixels (both positive): a line box's height does not
// depend on its text.
func (s *Shaper) Metrics() (ascent, descent fixed.Int26_6) {
	f := s.fonts.Primary()
	ext, ok := f.FontHExtents()
	if !ok {
		return s.size * 4 / 5, s.size / 5
	}
	k := float32(s.size) / float32(f.Upem())
	return fixed.Int26_6(ext.Ascender*k + 0.5), fixed.Int26_6(-ext.Descender*k + 0.5)
}
