package splash

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/text/unicode/norm"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text"
	"github.com/bootsplash/bootsplash/text/locale"
)

// SetLocale sets the locale of the splash's own strings: the prompt when
// the asker sends none, the retry and Caps Lock lines and the hint that
// Escape shows the details, from text/locale's catalogues ("fr_FR.UTF-8",
// "ar"; "" is English). A theme's own texts for them win. Call it before
// the renderer draws a prompt: one on screen is not drawn again.
func (r *Renderer) SetLocale(loc string) {
	if loc == r.locale {
		return
	}
	r.locale = loc
	if r.lay != nil {
		r.lay.prompt = nil // laid out again with the new strings
	}
}

// catalogue is the splash's strings in the renderer's locale.
func (r *Renderer) catalogue() *locale.Catalogue { return locale.For(r.locale) }

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
	sh, err := r.shaper(tl.font, tl.fonts, tl.px)
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

// shaper returns the shaper of the theme's font name with its fallback
// fonts, then the system's (scanned only when a character is missing
// from those) and the embedded font, at px pixels per em.
func (r *Renderer) shaper(name string, fallback []string, px float64) (*text.Shaper, error) {
	k := shaperKey{name, strings.Join(fallback, "\x00"), px}
	if sh := r.shapers[k]; sh != nil {
		return sh, nil
	}
	var faces []*text.Face
	for _, name := range append([]string{name}, fallback...) {
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
	sh := text.NewShaper(fonts, px, "")
	if r.shapers == nil {
		r.shapers = make(map[shaperKey]*text.Shaper)
	}
	r.shapers[k] = sh
	return sh, nil
}

// wrapWidth is the width a wrapping line may take on the screen: all of
// it but the margins fit keeps.
func wrapWidth(l *layout) int {
	return max(1, l.w-2*max(8, l.w*3/100))
}

// lines returns the shaper and the lines text is drawn on when it takes
// the shaper: shaped text, and Latin text too long for one line of a
// line that wraps. Both are nil when face draws text on the fast path.
func (r *Renderer) lines(l *layout, tl *textLayout, face font.Face, s string) (*text.Shaper, []text.Line, error) {
	if tl.maxLines > 1 {
		if simpleText(face, s) && font.MeasureString(face, s).Ceil() <= wrapWidth(l) {
			return nil, nil, nil
		}
		sh, err := r.shaper(tl.font, tl.fonts, tl.px)
		if err != nil {
			return nil, nil, err
		}
		return sh, sh.Layout(s, text.Options{MaxWidth: wrapWidth(l), MaxLines: tl.maxLines}), nil
	}
	sh, line, err := r.shaped(tl, face, s)
	if err != nil || line == nil {
		return nil, nil, err
	}
	return sh, []text.Line{*line}, nil
}

// advance returns the width of text's box: its advance on the fast
// path, else the widest of its shaped lines.
func (r *Renderer) advance(l *layout, tl *textLayout, face font.Face, s string) (fixed.Int26_6, error) {
	_, lines, err := r.lines(l, tl, face, s)
	if err != nil {
		return 0, err
	}
	if lines == nil {
		return font.MeasureString(face, s), nil
	}
	var w fixed.Int26_6
	for _, ln := range lines {
		w = max(w, ln.Width)
	}
	return w, nil
}

// lineDot returns where line i of lines starts, the first starting at
// at (the box's left end, on its first baseline): each line aligned in
// the box as the anchor says (left, right, or centred).
func (r *Renderer) lineDot(tl *textLayout, face font.Face, at image.Point, i int, lines []text.Line) image.Point {
	m := face.Metrics()
	var w fixed.Int26_6
	for _, ln := range lines {
		w = max(w, ln.Width)
	}
	ax, _ := theme.AnchorPoint(str(tl.place.Anchor, "center"))
	x := at.X + int(math.Round(ax*float64((w-lines[i].Width).Ceil())))
	return image.Pt(x, at.Y+i*(m.Ascent+m.Descent).Ceil())
}

// shaperKey names a shaper: a text line's fonts at a pixel size.
type shaperKey struct {
	font, fonts string
	px          float64
}

// textLine is one line of text to draw in a theme's font (and its
// fallback fonts) at a size, for elements other than the message and
// status lines (the prompt): lineAdvance, lineInk and drawLine take the
// fast path for Latin text and shape the rest, as the message does.
type textLine struct {
	Font     string   // the theme's font name; "" is the embedded font
	Fallback []string // the theme's fallback fonts
	Px       float64  // pixels per em
	Face     font.Face
	Text     string
}

// lineShaped returns the shaper and shaped line of ln, or a nil line for
// the fast path.
func (r *Renderer) lineShaped(ln textLine) (*text.Shaper, *text.Line, string, error) {
	s := composed(ln.Text)
	if simpleText(ln.Face, s) {
		return nil, nil, s, nil
	}
	sh, err := r.shaper(ln.Font, ln.Fallback, ln.Px)
	if err != nil {
		return nil, nil, s, err
	}
	ls := sh.Layout(s, text.Options{})
	if len(ls) == 0 {
		return sh, &text.Line{}, s, nil
	}
	return sh, &ls[0], s, nil
}

// lineAdvance returns the width ln takes: its shaped advance.
func (r *Renderer) lineAdvance(ln textLine) (fixed.Int26_6, error) {
	_, l, s, err := r.lineShaped(ln)
	if err != nil || l == nil {
		return font.MeasureString(ln.Face, s), err
	}
	return l.Width, nil
}

// lineInk returns the pixels drawing ln with its baseline's left end at
// dot touches.
func (r *Renderer) lineInk(ln textLine, dot image.Point) (image.Rectangle, error) {
	sh, l, s, err := r.lineShaped(ln)
	if err != nil {
		return image.Rectangle{}, err
	}
	if l != nil {
		return sh.Ink(*l, dot), nil
	}
	d := fixed.P(dot.X, dot.Y)
	prev := rune(-1)
	var ink image.Rectangle
	for _, c := range s {
		if prev >= 0 {
			d.X += ln.Face.Kern(prev, c)
		}
		dr, _, _, adv, ok := ln.Face.Glyph(d, c)
		prev = c
		d.X += adv
		if ok {
			ink = ink.Union(dr)
		}
	}
	return ink, nil
}

// drawLine draws ln in c with its baseline's left end at dot.
func (r *Renderer) drawLine(dst *fbemu.Surface, ln textLine, dot image.Point, c color.RGBA) error {
	sh, l, s, err := r.lineShaped(ln)
	if err != nil {
		return err
	}
	if l != nil {
		sh.Draw(dst, *l, dot, c)
		return nil
	}
	dst.DrawText(dot, ln.Face, s, c)
	return nil
}

// withoutColdText returns st without the texts that would need a shaper
// this renderer has not made yet (text beyond the fast path: other
// scripts, fonts to find among the system's, a line to wrap), for a
// first frame that goes up before fonts are scanned and parsed and text
// is shaped; the second frame, right after it, draws them where they
// were left out. Text on the fast path stays. cold says something was
// left out.
func (r *Renderer) withoutColdText(s *fbemu.Surface, st State) (light State, cold bool) {
	if st.Details != nil {
		return st, false
	}
	l, err := r.layoutFor(s)
	if l == nil || err != nil {
		return st, false // Paint says what is wrong
	}
	needs := func(name string, fonts []string, px float64, face font.Face, s string, maxLines int) bool {
		if s == "" {
			return false
		}
		if _, warm := r.shapers[shaperKey{name, strings.Join(fonts, "\x00"), px}]; warm {
			return false
		}
		s = composed(s)
		if !simpleText(face, s) {
			return true
		}
		return maxLines > 1 && font.MeasureString(face, s).Ceil() > wrapWidth(l)
	}
	light = st
	for _, tx := range []struct {
		tl   *textLayout
		text *string
	}{{l.message, &light.Message}, {l.status, &light.Status}} {
		if tx.tl == nil {
			continue
		}
		face, err := r.lineFace(tx.tl)
		if err != nil {
			continue
		}
		if needs(tx.tl.font, tx.tl.fonts, tx.tl.px, face, *tx.text, tx.tl.maxLines) {
			*tx.text, cold = "", true
		}
	}
	if tl := l.warning; tl != nil {
		if face, err := r.lineFace(tl); err == nil && needs(tl.font, tl.fonts, tl.px, face, r.warningText(l), tl.maxLines) {
			light.coldWarning, cold = true, true
		}
	}
	if st.Prompt.Active {
		// Checked before the prompt is laid out, which shapes what it
		// must measure.
		name, fonts, px, texts := r.promptTexts(l, st.Prompt)
		if face, err := r.face(name, px); err == nil {
			for _, s := range texts {
				if needs(name, fonts, px, face, s, promptMaxLines) {
					// The whole block comes with the second frame.
					light.Prompt, cold = Prompt{}, true
					break
				}
			}
		}
	}
	return light, cold
}
