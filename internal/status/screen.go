package status

import (
	"fmt"
	"image"
	"image/color"
	"time"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/bootsplash/bootsplash/fbemu"
)

// Field is one line of the screen: a label and a value worked out again
// on every update. The value is redrawn only when its text changes.
type Field struct {
	// Label is drawn once, in the left column.
	Label string
	// Value returns the text to show at now. It is called outside the
	// frame's CPU access bracket, so it may read files and sockets.
	Value func(now time.Time) string
}

// Options are the choices a Screen is made with.
type Options struct {
	// Fields are the lines shown, top to bottom (Standard gives the usual
	// ones).
	Fields []Field
	// Log, when set, fills the rest of the screen with the last lines of a
	// log file, polled on each update.
	Log *Tail
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TextPx is the size of the fields' text in pixels; 0 picks one from
	// the screen's height. The log is drawn at 3/4 of it.
	TextPx float64
	// Background, LabelColor and TextColor are the colours (premultiplied);
	// zero values mean a dark background, grey labels and white text.
	Background, LabelColor, TextColor color.RGBA
}

// Update is what one update drew.
type Update struct {
	// Regions is how many regions were redrawn (fields and log lines
	// whose text changed; every region on the first update).
	Regions int
	// Damage is the frame's damage, as the framebuffer recorded it and
	// sent it to the display: its rectangles and their area in pixels.
	Rects  int
	Pixels int
}

// Screen is a status screen on a framebuffer: one region per field and per
// log line, each holding the text last drawn there. An update works out
// every text first, then draws, in one frame, only the regions whose text
// changed: their old ink is cleared and the new text drawn, so the frame's
// damage (what the display is told to scan out again) is exactly the
// pixels that changed text covers.
type Screen struct {
	fb       *fbemu.Framebuffer
	opt      Options
	face     font.Face // fields
	logFace  font.Face // log lines
	labels   []*region
	values   []*region
	logHead  *region
	logLines []*region
	regions  []*region // values, then logHead and logLines
	texts    []string  // the next text of each of regions
	lines    []string  // scratch for Tail.Lines
	first    bool
}

// region is a rectangle of the screen that shows one line of text.
type region struct {
	r    image.Rectangle // where the text may draw
	base int             // the baseline's y
	face font.Face
	col  color.RGBA
	raw  string // the text asked for
	text string // the text drawn (raw cut to fit)
}

// New lays out a status screen on fb. It draws nothing until Update.
func New(fb *fbemu.Framebuffer, opt Options) (*Screen, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Background == (color.RGBA{}) {
		opt.Background = color.RGBA{0x10, 0x14, 0x1c, 0xff}
	}
	if opt.LabelColor == (color.RGBA{}) {
		opt.LabelColor = color.RGBA{0x8c, 0x96, 0xa8, 0xff}
	}
	if opt.TextColor == (color.RGBA{}) {
		opt.TextColor = color.RGBA{0xf0, 0xf0, 0xf0, 0xff}
	}
	w, h := fb.Width(), fb.Height()
	px := opt.TextPx
	if px <= 0 {
		px = min(max(float64(h)/28, 10), 48)
	}
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("status: embedded font: %w", err)
	}
	newFace := func(px float64) (font.Face, error) {
		fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, fmt.Errorf("status: font at %gpx: %w", px, err)
		}
		// Digits and the labels are drawn again and again: rasterize
		// each glyph once.
		return fbemu.NewGlyphCache(fc, 0), nil
	}
	s := &Screen{fb: fb, opt: opt, first: true}
	if s.face, err = newFace(px); err != nil {
		return nil, err
	}
	if s.logFace, err = newFace(max(px*3/4, 8)); err != nil {
		return nil, err
	}

	margin := max(4, w/40)
	lineH := s.face.Metrics().Height.Ceil() + 2
	labelW := 0
	for _, fl := range opt.Fields {
		labelW = max(labelW, font.MeasureString(s.face, fl.Label).Ceil())
	}
	valueX := margin + labelW + 2*margin
	right := w - margin
	y := margin
	bounds := fb.Bounds()
	line := func(x0 int, fc font.Face, col color.RGBA) *region {
		lh := fc.Metrics().Height.Ceil() + 2
		r := &region{r: image.Rect(x0, y, right, y+lh), base: y + 1 + fc.Metrics().Ascent.Ceil(), face: fc, col: col}
		y += lh
		if !r.r.In(bounds) || r.r.Empty() {
			return nil // no room left on this screen
		}
		return r
	}
	for _, fl := range opt.Fields {
		ly := y
		v := line(valueX, s.face, opt.TextColor)
		if v == nil {
			return nil, fmt.Errorf("status: a %dx%d screen has no room for field %q", w, h, fl.Label)
		}
		s.values = append(s.values, v)
		s.labels = append(s.labels, &region{r: image.Rect(margin, ly, valueX, ly+lineH), base: v.base, face: s.face, col: opt.LabelColor, text: fl.Label})
	}
	if opt.Log != nil {
		y += lineH / 2
		if s.logHead = line(margin, s.logFace, opt.LabelColor); s.logHead == nil {
			return nil, fmt.Errorf("status: a %dx%d screen has no room for the log", w, h)
		}
		for {
			r := line(margin, s.logFace, opt.TextColor)
			if r == nil {
				break
			}
			s.logLines = append(s.logLines, r)
		}
	}
	s.regions = append(s.regions, s.values...)
	if s.logHead != nil {
		s.regions = append(s.regions, s.logHead)
		s.regions = append(s.regions, s.logLines...)
	}
	s.texts = make([]string, len(s.regions))
	return s, nil
}

// Redraw makes the next update paint the whole screen, for a display
// that lost what it showed (its mode was set again).
func (s *Screen) Redraw() { s.first = true }

// Update works out every text at now and draws, in one frame, the regions
// whose text changed. A log that cannot be read is shown in the log's
// header line; only a failing frame is an error.
func (s *Screen) Update(now time.Time) (Update, error) {
	// Everything that reads the machine happens before the frame's CPU
	// access bracket opens.
	for i, fl := range s.opt.Fields {
		s.texts[i] = fl.Value(now)
	}
	if t := s.opt.Log; t != nil {
		head := "log " + t.Path()
		if err := t.Poll(); err != nil {
			head += ": " + err.Error()
		} else if st := t.Status(); st != "" {
			head += " (" + st + ")"
		}
		s.texts[len(s.values)] = head
		s.lines = t.Lines(s.lines[:0])
		lines := s.lines[max(0, len(s.lines)-len(s.logLines)):]
		for i := range s.logLines {
			txt := ""
			if i < len(lines) {
				txt = lines[i]
			}
			s.texts[len(s.values)+1+i] = txt
		}
	}

	var u Update
	err := s.fb.Frame(func(surf *fbemu.Surface) error {
		if s.first {
			surf.Clear(s.opt.Background)
			for _, l := range s.labels {
				l.text = fit(l.face, l.text, l.r.Dx())
				surf.DrawText(image.Pt(l.r.Min.X, l.base), l.face, l.text, l.col)
			}
		}
		for i, r := range s.regions {
			if s.draw(surf, r, s.texts[i]) {
				u.Regions++
			}
		}
		if d := surf.Damage(); d != nil {
			u.Rects, u.Pixels = len(d.Rects()), d.Area()
		}
		return nil
	})
	if err == nil {
		s.first = false
	}
	return u, err
}

// draw shows text in r if it is not what r shows, and says whether it
// drew. What the old and the new text have in common at their start stays
// on screen; the old text's ink after it is cleared and the rest of the
// new text drawn: the damage these operations record is the union of the
// old and the new ink of the part that changed, which for a clock is the
// digits that turned.
func (s *Screen) draw(surf *fbemu.Surface, r *region, raw string) bool {
	if raw == r.raw && !s.first {
		return false
	}
	text := fit(r.face, raw, r.r.Dx())
	if text == r.text && !s.first {
		r.raw = raw // changed only past the cut
		return false
	}
	dot := image.Pt(r.r.Min.X, r.base)
	k, x := 0, dot.X
	if !s.first {
		k, x = keep(r.face, r.text, text, dot)
	}
	at := image.Pt(x, dot.Y)
	clear := inkOf(r.face, r.text[min(k, len(r.text)):], at).Union(inkOf(r.face, text[k:], at)).Intersect(r.r)
	if !clear.Empty() {
		surf.FillRect(clear, s.opt.Background)
	}
	surf.DrawText(at, r.face, text[k:], r.col)
	r.raw, r.text = raw, text
	return true
}

// keep returns how many bytes at the start of next can stay as old drew
// them, and the pen's x where the rest begins. It keeps nothing unless
// the kept glyphs and the changed ones are apart: the pen at a whole
// pixel (hinted advances are), no kept ink right of it and no changed ink,
// old or new, left of it.
func keep(face font.Face, old, next string, dot image.Point) (int, int) {
	k := 0
	for k < len(old) && k < len(next) && old[k] == next[k] {
		k++
	}
	for k > 0 && k < len(next) && !utf8.RuneStart(next[k]) {
		k--
	}
	if k == 0 {
		return 0, dot.X
	}
	prev, _ := utf8.DecodeLastRuneInString(next[:k])
	adv := font.MeasureString(face, next[:k])
	kern := func(s string) fixed.Int26_6 {
		if s == "" {
			return 0
		}
		r, _ := utf8.DecodeRuneInString(s)
		return face.Kern(prev, r)
	}
	if kern(old[k:]) != kern(next[k:]) {
		return 0, dot.X
	}
	adv += kern(next[k:])
	if adv&63 != 0 {
		return 0, dot.X
	}
	x := dot.X + adv.Floor()
	at := image.Pt(x, dot.Y)
	if inkOf(face, next[:k], dot).Max.X > x {
		return 0, dot.X
	}
	for _, rest := range []string{old[k:], next[k:]} {
		if ink := inkOf(face, rest, at); !ink.Empty() && ink.Min.X < x {
			return 0, dot.X
		}
	}
	return k, x
}

// inkOf is the rectangle the glyphs of text cover when drawn at dot.
func inkOf(face font.Face, text string, dot image.Point) image.Rectangle {
	b, _ := font.BoundString(face, text)
	r := image.Rect(b.Min.X.Floor(), b.Min.Y.Floor(), b.Max.X.Ceil(), b.Max.Y.Ceil())
	if r.Empty() {
		return image.Rectangle{}
	}
	return r.Add(dot)
}

// maxText bounds the text fit measures: a line that long is cut before
// it is measured, whatever width it is to fit.
const maxText = 1024

// fit cuts text to at most w pixels, ending it with an ellipsis when cut.
func fit(face font.Face, text string, w int) string {
	if len(text) > maxText {
		i := maxText
		for i > 0 && !utf8.RuneStart(text[i]) {
			i--
		}
		text = text[:i]
	}
	width := fixed.I(w)
	if font.MeasureString(face, text) <= width {
		return text
	}
	ell := font.MeasureString(face, "…")
	if ell > width {
		return ""
	}
	var adv fixed.Int26_6
	prev := rune(-1)
	for i, r := range text {
		if prev >= 0 {
			adv += face.Kern(prev, r)
		}
		a, _ := face.GlyphAdvance(r)
		if adv+a+ell > width {
			return text[:i] + "…"
		}
		adv += a
		prev = r
	}
	return text
}
