package splash

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text"
	"github.com/bootsplash/bootsplash/text/locale"
)

// Renderer draws a Theme's splash for a State on the surfaces of one
// output, at that output's scale. It lays the theme out for the surface's
// size (the rotated geometry when the output is rotated) on first use and
// again whenever the size or format changes.
//
// The first frame is cheap: Paint of a State without text needs only the
// background and the logo (decoded, with every other image, when the
// theme was loaded) and the bar; fonts are parsed the first time a line of
// text is drawn and each spinner frame is scaled the first time it is
// shown. Repainting is
// cheap too: Update repaints only the rectangles that differ between two
// States, so a progress tick damages a few columns of the bar and a
// spinner frame the spinner's square.
//
// A Renderer is not safe for concurrent use; use one per output.
type Renderer struct {
	theme *theme.Theme
	scale float64
	lay   *layout

	// The bar sprite of the last state drawn, reused while it holds.
	barKey barKey
	barSp  *fbemu.Sprite
	// Procedural spinner frames, per layout.
	spin map[int]*fbemu.Sprite
	// Faces with their glyph caches.
	faces map[faceKey]*fbemu.GlyphCache
	// Shapers for text beyond the fast path, and the system's fonts
	// they fall back to (see text.go).
	shapers  map[shaperKey]*text.Shaper
	sysFonts *text.SystemFonts
	// The locale of the splash's own strings (see SetLocale).
	locale string

	// The firmware's logo, for a theme that takes it, and the mode the
	// firmware drew it in (zero: not known).
	fwLogo *display.FirmwareLogo
	fwMode image.Point
	// What the firmware says of Secure Boot, for a theme with a
	// [secure_boot] line.
	secureBoot display.SecureBoot
}

// NewRenderer returns a renderer of t at scale (see OutputScale; 0 or
// less means 1).
func NewRenderer(t *theme.Theme, scale float64) *Renderer {
	if !(scale > 0) {
		scale = 1
	}
	return &Renderer{theme: t, scale: scale}
}

// SetFirmwareLogo gives the renderer the firmware's logo (ACPI BGRT,
// display.ReadFirmwareLogo) and the size of the mode the firmware drew it
// in (display.FirmwareMode; zero when not known). A theme whose [logo]
// says firmware = true draws it instead of its image, placed by
// FirmwareLogo.Place; nil takes the theme's image again.
func (r *Renderer) SetFirmwareLogo(l *display.FirmwareLogo, firmware image.Point) {
	r.fwLogo, r.fwMode = l, firmware
	r.lay = nil
}

// SetSecureBoot gives the renderer what the firmware says of Secure Boot
// (display.ReadSecureBoot): a theme's [secure_boot] line is drawn when it
// is SecureBootOff, and never otherwise.
func (r *Renderer) SetSecureBoot(s display.SecureBoot) {
	if s != r.secureBoot {
		r.secureBoot, r.lay = s, nil
	}
}

// Scale returns the scale the renderer draws at.
func (r *Renderer) Scale() float64 { return r.scale }

// FPS returns the rate State.Frame should advance at while Animated: the
// spinner's fps, or 30. It is known once the renderer has drawn.
func (r *Renderer) FPS() int {
	if r.lay != nil {
		return r.lay.fps
	}
	if sp := r.theme.Base().Spinner; sp != nil && sp.FPS != nil {
		return *sp.FPS
	}
	return defaultFPS
}

// Animated reports whether State.Frame changes what st looks like: the
// theme has a spinner, or the bar pulses because progress is unknown.
func (r *Renderer) Animated(st State) bool {
	sec := r.theme.Base()
	if r.lay != nil {
		sec = r.lay.sec
	}
	return sec.Spinner != nil || sec.Progress != nil && st.Progress < 0
}

// layoutFor returns the layout for s, making it when s differs from the
// last surface. Elements that could not be laid out (an image that fails
// to decode) are left out and reported in the error.
func (r *Renderer) layoutFor(s *fbemu.Surface) (*layout, error) {
	if l := r.lay; l != nil && l.w == s.Width() && l.h == s.Height() && l.format == s.Format() {
		return l, nil
	}
	// A layout with errors still draws what it could place.
	l, err := r.newLayout(s.Width(), s.Height(), s.Format())
	r.lay, r.barSp, r.spin = l, nil, make(map[int]*fbemu.Sprite)
	return l, err
}

// Paint draws the whole splash for st on s. What cannot be drawn (a text
// line whose font fails, a spinner over the theme's budget) is left out and
// reported in the error; everything else is drawn.
func (r *Renderer) Paint(s *fbemu.Surface, st State) error {
	if st.Details != nil {
		return r.paintDetails(s, st.Details)
	}
	l, err := r.layoutFor(s)
	return errors.Join(err, r.paintRect(s, l, st, s.Bounds()))
}

// Update changes s from showing old to showing new, repainting only the
// rectangles that differ. s must show exactly Paint(old) (a single
// buffer, or a double-buffered frame that fbemu has brought up to date);
// afterwards it shows exactly Paint(new).
func (r *Renderer) Update(s *fbemu.Surface, old, new State) error {
	if old.Details != nil || new.Details != nil {
		if old.Details == new.Details {
			return nil
		}
		if old.Details != nil && new.Details != nil {
			return r.updateDetails(s, old.Details, new.Details)
		}
		return r.Paint(s, new) // the details view is drawn whole
	}
	if l := r.lay; l == nil || l.w != s.Width() || l.h != s.Height() || l.format != s.Format() {
		// A new geometry: nothing of the old picture can be kept.
		return r.Paint(s, new)
	}
	l := r.lay
	var dirty []image.Rectangle
	errs := []error{}
	// What an open question hides in both States does not change on
	// screen: a hidden spinner turning or bar pulsing damages nothing.
	hideBoth := ^hidden(0)
	for _, st := range []State{old, new} {
		pl, err := r.promptArrangement(l, st)
		errs = append(errs, err)
		if pl == nil {
			hideBoth = 0
		} else {
			hideBoth &= pl.hide
		}
	}
	if b := l.bar; b != nil && hideBoth&hideBar == 0 {
		dirty = append(dirty, r.barChange(l, old, new))
	}
	for _, tx := range []struct {
		tl       *textLayout
		old, new string
	}{{l.message, old.Message, new.Message}, {l.status, old.Status, new.Status}, {l.warning, r.warningFor(l, old), r.warningFor(l, new)}} {
		if tx.tl == nil || tx.old == tx.new {
			continue
		}
		for _, text := range []string{tx.old, tx.new} {
			box, err := r.textInk(l, tx.tl, text)
			errs = append(errs, err)
			dirty = append(dirty, box)
		}
	}
	if sp := l.spinner; sp != nil && hideBoth&hideSpinner == 0 && frameIndex(old.Frame, sp.n) != frameIndex(new.Frame, sp.n) {
		dirty = append(dirty, sp.rect)
	}
	// Text is drawn whole, so a rectangle that touches a line of new text
	// grows to hold all of it; rectangles that overlap are merged, so no
	// pixel is blended twice.
	var boxes []image.Rectangle
	for _, tx := range []struct {
		tl   *textLayout
		text string
	}{{l.message, new.Message}, {l.status, new.Status}, {l.warning, r.warningFor(l, new)}} {
		if tx.tl != nil && tx.text != "" {
			box, err := r.textInk(l, tx.tl, tx.text)
			errs = append(errs, err)
			boxes = append(boxes, box.Intersect(s.Bounds()))
		}
	}
	pd, err := r.promptChange(l, old.Prompt, new.Prompt)
	pb, berr := r.promptBoxes(l, new.Prompt, s.Bounds())
	dirty, boxes, errs = append(dirty, pd...), append(boxes, pb...), append(errs, err, berr)
	dirty = settle(dirty, boxes, s.Bounds())
	for _, d := range dirty {
		errs = append(errs, r.paintRect(s, l, new, d))
	}
	return errors.Join(errs...)
}

// settle clips the dirty rectangles to bounds, grows each to hold every
// text box it touches, and merges overlapping ones until none overlap.
func settle(dirty, boxes []image.Rectangle, bounds image.Rectangle) []image.Rectangle {
	var out []image.Rectangle
	for _, d := range dirty {
		if d = d.Intersect(bounds); !d.Empty() {
			out = append(out, d)
		}
	}
	for changed := true; changed; {
		changed = false
		for i := 0; i < len(out); i++ {
			for _, b := range boxes {
				if !b.Empty() && b.Overlaps(out[i]) && !b.In(out[i]) {
					out[i], changed = out[i].Union(b), true
				}
			}
			for j := i + 1; j < len(out); j++ {
				if out[i].Overlaps(out[j]) {
					out[i], changed = out[i].Union(out[j]), true
					out = append(out[:j], out[j+1:]...)
					j--
				}
			}
		}
	}
	return out
}

// paintRect draws everything of the splash inside clip, in order:
// background, logo, spinner, bar, message, status, the Secure Boot line. Text lines are drawn
// only when they lie inside clip (Update makes sure of that).
func (r *Renderer) paintRect(s *fbemu.Surface, l *layout, st State, clip image.Rectangle) error {
	pl, err := r.promptArrangement(l, st)
	errs := []error{err}
	var hide hidden
	logo, logoRect := l.logo, l.logoRect
	if pl != nil {
		hide = pl.hide
		if pl.logoMoved {
			logo, logoRect = pl.logo, pl.logoRect
		}
	}
	r.background(s, l, clip)
	if hide&hideLogo == 0 {
		blit(s, logo, logoRect, clip)
	}
	if sp := l.spinner; sp != nil && hide&hideSpinner == 0 && sp.rect.Overlaps(clip) {
		fr, err := r.spinnerFrame(l, frameIndex(st.Frame, sp.n))
		errs = append(errs, err)
		blit(s, fr, sp.rect, clip)
	}
	if b := l.bar; b != nil && hide&hideBar == 0 && b.rect.Overlaps(clip) {
		part := b.rect.Intersect(clip)
		blit(s, r.barPart(l, st, part.Sub(b.rect.Min)), part, clip)
	}
	for _, tx := range []struct {
		tl   *textLayout
		text string
		h    hidden
	}{{l.message, st.Message, hideMessage}, {l.status, st.Status, hideStatus}, {l.warning, r.warningFor(l, st), hideWarning}} {
		if tx.tl == nil || tx.text == "" || hide&tx.h != 0 {
			continue
		}
		box, err := r.textInk(l, tx.tl, tx.text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if box.Intersect(s.Bounds()).Overlaps(clip) {
			errs = append(errs, r.drawText(s, l, tx.tl, tx.text))
		}
	}
	errs = append(errs, r.paintPrompt(s, pl, st, clip))
	return errors.Join(errs...)
}

// blit draws the part of sp placed at at that lies in clip.
func blit(s *fbemu.Surface, sp *fbemu.Sprite, at, clip image.Rectangle) {
	if sp == nil {
		return
	}
	dr := at.Intersect(clip)
	if dr.Empty() {
		return
	}
	s.Blit(dr, sp, dr.Min.Sub(at.Min), draw.Over)
}

// background paints the background inside clip.
func (r *Renderer) background(s *fbemu.Surface, l *layout, clip image.Rectangle) {
	if !l.bgCovers {
		if l.gradient {
			for y := clip.Min.Y; y < clip.Max.Y; y++ {
				s.FillRect(image.Rect(clip.Min.X, y, clip.Max.X, y+1), gradientAt(l.top, l.bot, y, l.h-1))
			}
		} else {
			s.FillRect(clip, l.solid)
		}
	}
	if l.bgImage != nil {
		dr := l.bgRect.Intersect(clip)
		if !dr.Empty() {
			op := draw.Over
			if l.bgCovers {
				op = draw.Src
			}
			s.Blit(dr, l.bgImage, dr.Min.Sub(l.bgRect.Min), op)
		}
	}
}

// gradientAt mixes a and b as i/n of the way, in integers so every output
// gets the same bytes; the result is opaque.
func gradientAt(a, b color.RGBA, i, n int) color.RGBA {
	if n <= 0 {
		return color.RGBA{a.R, a.G, a.B, 0xff}
	}
	mix := func(x, y uint8) uint8 {
		return uint8((int(x)*(n-i) + int(y)*i + n/2) / n)
	}
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// frameIndex maps an unbounded frame counter onto n frames.
func frameIndex(frame, n int) int {
	if n <= 0 {
		return 0
	}
	return (frame%n + n) % n
}

// barSpanKey is the filled span of the bar's track, in bar pixels.
type barSpanKey struct {
	lo, hi float64
}

// barKey names a drawn part of the bar.
type barKey struct {
	span barSpanKey
	part image.Rectangle
}

// barSpan returns the filled span of the bar's track for st: from the
// left to the progress, or the pulse's segment when progress is unknown.
func barSpan(l *layout, st State) barSpanKey {
	b := l.bar
	x0 := b.border
	tw := float64(b.rect.Dx()) - 2*b.border
	if st.Progress >= 0 {
		p := math.Min(st.Progress, 1)
		return barSpanKey{x0, x0 + p*tw}
	}
	// The pulse sweeps across and back over pulseLen frames, easing at
	// the ends.
	n := l.pulseLen
	t := float64(frameIndex(st.Frame, n)) / float64(n) // 0..1
	u := 1 - math.Abs(1-2*t)                           // 0..1..0
	u = u * u * (3 - 2*u)                              // smoothstep
	pw := b.pulseWidth * tw
	lo := x0 + u*(tw-pw)
	return barSpanKey{lo, lo + pw}
}

// barChange returns the part of the bar that differs between two states.
func (r *Renderer) barChange(l *layout, old, new State) image.Rectangle {
	a, b := barSpan(l, old), barSpan(l, new)
	if a == b {
		return image.Rectangle{}
	}
	rect := l.bar.rect
	cols := func(lo, hi float64) (int, int) {
		return int(math.Floor(lo)), int(math.Ceil(hi))
	}
	var x0, x1 int
	if a.lo == b.lo {
		// A progress tick: only the columns between the two ends.
		x0, x1 = cols(math.Min(a.hi, b.hi), math.Max(a.hi, b.hi))
	} else {
		x0, x1 = cols(math.Min(a.lo, b.lo), math.Max(a.hi, b.hi))
	}
	return image.Rect(rect.Min.X+x0, rect.Min.Y, rect.Min.X+x1, rect.Max.Y).Intersect(rect)
}

// barPart returns the part (in bar coordinates) of the bar drawn for
// st, reusing the last one while the filled span and the part hold, so a
// tick draws only the few columns it changes.
func (r *Renderer) barPart(l *layout, st State, part image.Rectangle) *fbemu.Sprite {
	k := barKey{span: barSpan(l, st), part: part}
	if r.barSp != nil && r.barKey == k {
		return r.barSp
	}
	b := l.bar
	b.coverage()
	w := b.rect.Dx()
	img := image.NewRGBA(image.Rect(0, 0, part.Dx(), part.Dy()))
	for y := part.Min.Y; y < part.Max.Y; y++ {
		for x := part.Min.X; x < part.Max.X; x++ {
			inner := float64(b.inner[y*w+x])
			var px [4]float64 // premultiplied, 0..255
			if ring := float64(b.ring[y*w+x]); ring > 0 {
				px = overF(px, b.edge, ring)
			}
			px = overF(px, b.track, inner)
			if span := math.Min(float64(x+1), k.span.hi) - math.Max(float64(x), k.span.lo); span > 0 {
				px = overF(px, b.fill, inner*math.Min(span, 1))
			}
			o := img.PixOffset(x-part.Min.X, y-part.Min.Y)
			for c := 0; c < 4; c++ {
				img.Pix[o+c] = uint8(math.Min(255, math.Round(px[c])))
			}
		}
	}
	r.barKey, r.barSp = k, fbemu.NewSprite(img, l.format)
	return r.barSp
}

// coverage computes, once per layout, how much of each pixel of the bar
// the border ring and the track inside it cover.
func (b *barLayout) coverage() {
	if b.inner != nil {
		return
	}
	w, h := b.rect.Dx(), b.rect.Dy()
	b.inner, b.ring = make([]float32, w*h), make([]float32, w*h)
	fw, fh, bd := float64(w), float64(h), b.border
	for y := 0; y < h; y++ {
		cy := float64(y) + 0.5
		for x := 0; x < w; x++ {
			cx := float64(x) + 0.5
			outer := roundRectCover(cx, cy, 0, 0, fw, fh, b.radius)
			inner := outer
			if bd > 0 {
				inner = roundRectCover(cx, cy, bd, bd, fw-bd, fh-bd, math.Max(0, b.radius-bd))
			}
			b.inner[y*w+x], b.ring[y*w+x] = float32(inner), float32(max(0, outer-inner))
		}
	}
}

// overF composites the premultiplied colour c, scaled by coverage k, over
// dst.
func overF(dst [4]float64, c color.RGBA, k float64) [4]float64 {
	if k <= 0 {
		return dst
	}
	a := float64(c.A) * k / 255
	return [4]float64{
		float64(c.R)*k + dst[0]*(1-a),
		float64(c.G)*k + dst[1]*(1-a),
		float64(c.B)*k + dst[2]*(1-a),
		float64(c.A)*k + dst[3]*(1-a),
	}
}

// roundRectCover returns how much of the pixel centred at (cx, cy) a
// rectangle x0,y0-x1,y1 with corner radius rad covers, from its signed
// distance (one pixel of antialiasing).
func roundRectCover(cx, cy, x0, y0, x1, y1, rad float64) float64 {
	hx, hy := (x1-x0)/2, (y1-y0)/2
	if hx <= 0 || hy <= 0 {
		return 0
	}
	rad = math.Min(rad, math.Min(hx, hy))
	qx := math.Abs(cx-(x0+hx)) - (hx - rad)
	qy := math.Abs(cy-(y0+hy)) - (hy - rad)
	d := math.Hypot(math.Max(qx, 0), math.Max(qy, 0)) + math.Min(math.Max(qx, qy), 0) - rad
	return math.Max(0, math.Min(1, 0.5-d))
}

// spinnerFrame returns frame i of the spinner, decoding a PNG frame or
// drawing a procedural one the first time it is needed.
func (r *Renderer) spinnerFrame(l *layout, i int) (*fbemu.Sprite, error) {
	sp := l.spinner
	if sp.frames != nil {
		return r.theme.Sprite(sp.frames[i], sp.rect.Dx(), sp.rect.Dy(), l.format)
	}
	if fr := r.spin[i]; fr != nil {
		return fr, nil
	}
	fr := fbemu.NewSprite(dotsFrame(sp.rect.Dx(), sp.dots, i, sp.n, sp.color), l.format)
	r.spin[i] = fr
	return fr, nil
}

// dotsFrame draws frame i of n of the procedural spinner: dots on a
// circle, the brightest one going round once in n frames and the others
// fading behind it.
func dotsFrame(size, dots, i, n int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	s := float64(size)
	dr := math.Max(1, s*0.075)
	ring := s/2 - dr - 0.5
	head := 2 * math.Pi * float64(i) / float64(n)
	for k := 0; k < dots; k++ {
		ang := 2 * math.Pi * float64(k) / float64(dots)
		behind := math.Mod(head-ang+4*math.Pi, 2*math.Pi) / (2 * math.Pi) // 0 at the head
		fade := 1 - 0.8*behind
		dx, dy := s/2+ring*math.Sin(ang), s/2-ring*math.Cos(ang)
		for y := int(dy - dr - 1); y <= int(dy+dr+1); y++ {
			for x := int(dx - dr - 1); x <= int(dx+dr+1); x++ {
				if x < 0 || y < 0 || x >= size || y >= size {
					continue
				}
				d := math.Hypot(float64(x)+0.5-dx, float64(y)+0.5-dy)
				cov := math.Max(0, math.Min(1, dr-d+0.5)) * fade
				if cov <= 0 {
					continue
				}
				o := img.PixOffset(x, y)
				old := [4]float64{float64(img.Pix[o]), float64(img.Pix[o+1]), float64(img.Pix[o+2]), float64(img.Pix[o+3])}
				px := overF(old, c, cov)
				for ch := 0; ch < 4; ch++ {
					img.Pix[o+ch] = uint8(math.Min(255, math.Round(px[ch])))
				}
			}
		}
	}
	return img
}

// lineFace returns the text line's face, loading its font the first time.
func (r *Renderer) lineFace(tl *textLayout) (font.Face, error) {
	return r.face(tl.font, tl.px)
}

// lineBox returns the line box of text (its advance by the font's ascent
// plus descent) placed on the screen as the layout says. Its height does
// not depend on the text.
func (r *Renderer) lineBox(l *layout, tl *textLayout, text string) (image.Rectangle, error) {
	face, err := r.lineFace(tl)
	if err != nil {
		return image.Rectangle{}, err
	}
	m := face.Metrics()
	adv, err := r.advance(l, tl, face, text)
	if err != nil {
		return image.Rectangle{}, err
	}
	sz := image.Pt(adv.Ceil(), (m.Ascent+m.Descent).Ceil()*tl.maxLines)
	var under *image.Rectangle
	if tl.below != nil {
		u, err := tl.below()
		if err != nil {
			return image.Rectangle{}, err
		}
		under = &u
	}
	return place(tl.place, sz, l.w, l.h, l.scale, under), nil
}

// dot returns where text's baseline starts.
func (r *Renderer) dot(l *layout, tl *textLayout, text string) (image.Point, font.Face, error) {
	box, err := r.lineBox(l, tl, text)
	if err != nil {
		return image.Point{}, nil, err
	}
	face, _ := r.lineFace(tl)
	return image.Pt(box.Min.X, box.Min.Y+face.Metrics().Ascent.Ceil()), face, nil
}

// textInk returns the pixels drawing text would touch: the union of its
// glyph rectangles, found the way Surface.DrawText walks the line, through
// the same cached face.
func (r *Renderer) textInk(l *layout, tl *textLayout, text string) (image.Rectangle, error) {
	if text == "" {
		return image.Rectangle{}, nil
	}
	text, err := r.fit(l, tl, composed(text))
	if err != nil {
		return image.Rectangle{}, fmt.Errorf("text %q: %w", text, err)
	}
	at, face, err := r.dot(l, tl, text)
	if err != nil {
		return image.Rectangle{}, fmt.Errorf("text %q: %w", text, err)
	}
	if sh, lines, err := r.lines(l, tl, face, text); err != nil || lines != nil {
		if err != nil {
			return image.Rectangle{}, fmt.Errorf("text %q: %w", text, err)
		}
		var ink image.Rectangle
		for i, ln := range lines {
			ink = ink.Union(sh.Ink(ln, r.lineDot(tl, face, at, i, lines)))
		}
		return ink, nil
	}
	d := fixed.P(at.X, at.Y)
	prev := rune(-1)
	var ink image.Rectangle
	for _, c := range text {
		if prev >= 0 {
			d.X += face.Kern(prev, c)
		}
		dr, _, _, adv, ok := face.Glyph(d, c)
		prev = c
		d.X += adv
		if ok {
			ink = ink.Union(dr)
		}
	}
	return ink, nil
}

// fit shortens a line that would leave the screen where the layout
// places it, by taking characters out of its middle, where an ellipsis
// goes, so both ends stay readable: "A start job is running for
// /dev/di…(1min 30s)". The shortened line keeps a margin (3% of the
// width, at least 8 pixels) on each side it overflowed. A line that fits
// is returned as it is.
func (r *Renderer) fit(l *layout, tl *textLayout, text string) (string, error) {
	box, err := r.lineBox(l, tl, text)
	if err != nil {
		return text, err
	}
	if tl.maxLines > 1 || box.Min.X >= 0 && box.Max.X <= l.w {
		return text, nil
	}
	margin := max(8, l.w*3/100)
	left, right := 0, l.w
	if box.Min.X < 0 {
		left = margin
	}
	if box.Max.X > l.w {
		right = l.w - margin
	}
	face, _ := r.lineFace(tl)
	ell := "…"
	if _, ok := face.GlyphAdvance('…'); !ok {
		ell = "..."
	}
	runes := []rune(text)
	cut := func(n int) string {
		head := (n + 1) / 2
		return string(runes[:head]) + ell + string(runes[len(runes)-(n-head):])
	}
	// The most characters kept, half from each end, that fit with the
	// ellipsis: found by bisection on the count.
	lo, hi := 0, len(runes)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		b, err := r.lineBox(l, tl, cut(mid))
		if err != nil {
			return text, err
		}
		if b.Min.X >= left && b.Max.X <= right {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return cut(lo), nil
}

// drawText draws text at its place.
func (r *Renderer) drawText(s *fbemu.Surface, l *layout, tl *textLayout, text string) error {
	text, err := r.fit(l, tl, composed(text))
	if err != nil {
		return fmt.Errorf("text %q: %w", text, err)
	}
	at, face, err := r.dot(l, tl, text)
	if err != nil {
		return fmt.Errorf("text %q: %w", text, err)
	}
	if sh, lines, err := r.lines(l, tl, face, text); err != nil || lines != nil {
		if err != nil {
			return fmt.Errorf("text %q: %w", text, err)
		}
		for i, ln := range lines {
			sh.Draw(s, ln, r.lineDot(tl, face, at, i, lines), tl.color)
		}
		return nil
	}
	s.DrawText(at, face, text, tl.color)
	return nil
}

// FrameOptions describe one frame for RenderFrame.
type FrameOptions struct {
	// Width and Height are the panel's size in pixels.
	Width, Height int
	// Theme is what to draw; nil is DefaultTheme.
	Theme *theme.Theme
	// State is what the splash shows.
	State State
	// Scale is the output scale; 0 guesses it from the size as
	// OutputScale does for a panel of unknown physical size.
	Scale float64
	// Rotation turns the picture on its way to the panel; the splash is
	// laid out in the rotated geometry.
	Rotation fbemu.Rotation
	// Lang is the locale of the splash's own strings ("ar",
	// "zh_CN.UTF-8"); "" is English, whatever the system's locale, so a
	// frame is the same on every machine.
	Lang string
	// FirmwareLogo is the firmware's logo (display.ReadFirmwareLogo) for
	// a theme that takes it; nil: the firmware has none, as on the
	// emulated display.
	FirmwareLogo *display.FirmwareLogo
	// FirmwareMode is the size of the mode the firmware drew its logo
	// in; zero is Width x Height: the splash drawn in the firmware's
	// mode, as on the firmware framebuffer.
	FirmwareMode image.Point
	// SecureBoot is what the firmware says of Secure Boot; the zero
	// value, SecureBootUnknown, draws no [secure_boot] line, as on the
	// emulated display.
	SecureBoot display.SecureBoot
}

// RenderFrame draws one frame on the emulated display, by the same
// Renderer and fbemu path `bootsplash run` uses, and writes what the
// panel shows to out as a PNG.
func RenderFrame(out string, opt FrameOptions) error {
	th := opt.Theme
	if th == nil {
		var err error
		if th, err = theme.Default(); err != nil {
			return err
		}
	}
	scale := opt.Scale
	if scale <= 0 {
		scale = OutputScale(opt.Width, opt.Height, 0, 0)
	}
	e, err := fbemu.NewEmulatedWith(opt.Width, opt.Height, fbemu.XRGB8888, fbemu.EmulatedOptions{
		FramebufferOptions: fbemu.FramebufferOptions{Buffers: 1, Rotation: opt.Rotation},
	})
	if err != nil {
		return err
	}
	defer e.Close()
	r := NewRenderer(th, scale)
	r.SetLocale(opt.Lang)
	if opt.FirmwareLogo != nil {
		mode := opt.FirmwareMode
		if mode == (image.Point{}) {
			mode = image.Pt(opt.Width, opt.Height)
		}
		r.SetFirmwareLogo(opt.FirmwareLogo, mode)
	}
	r.SetSecureBoot(opt.SecureBoot)
	if err := e.Frame(func(s *fbemu.Surface) error { return r.Paint(s, opt.State) }); err != nil {
		return err
	}
	return e.SavePNG(out)
}

// warningText is the [secure_boot] line's text on l: the theme's, else
// the splash's own in the renderer's locale; "" when l has no such line
// (no table, or Secure Boot not known to be off).
func (r *Renderer) warningText(l *layout) string {
	if l.warning == nil {
		return ""
	}
	if t := l.sec.SecureBoot.Text; t != nil {
		return *t
	}
	return r.catalogue().Get(locale.SecureBootOff)
}

// warningFor is the [secure_boot] line's text as st shows it: none in a
// first frame that leaves it out (see withoutColdText).
func (r *Renderer) warningFor(l *layout, st State) string {
	if st.coldWarning {
		return ""
	}
	return r.warningText(l)
}
