package splash

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"
	"unicode/utf8"

	"golang.org/x/image/font"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text"
	"github.com/bootsplash/bootsplash/text/locale"
)

// Defaults of the [prompt] table, which is drawn even when a theme
// leaves it out.
const (
	defaultPromptY      = 0.78
	defaultPromptSize   = 11 // points
	defaultEntryWidth   = 260
	defaultEntryHeight  = 30
	defaultBulletSize   = 8
	defaultMaxBullets   = 24
	promptGap           = 8 // pixels at scale 1 between the block's rows
	promptLineSpacing   = 1.25
	promptCursorWidthPx = 2 // at scale 1
)

var (
	defaultEntryColor  = color.RGBA{0x1a, 0x1a, 0x1a, 0x1a}
	defaultBulletColor = color.RGBA{0xe6, 0xed, 0xf5, 0xff}
	defaultRetryColor  = color.RGBA{0xff, 0x8a, 0x80, 0xff}
	defaultCapsColor   = color.RGBA{0xff, 0xd4, 0x79, 0xff}
)

// promptLayout is the prompt block laid out on one output for one
// question: the prompt's lines, the entry, the retry and Caps Lock lines
// and the hint that Escape shows the details, top to bottom; the texts
// are centred on the entry. It also says how the rest of the splash
// makes room for it (see arrangePrompt).
type promptLayout struct {
	font                    string
	fonts                   []string
	px                      float64
	face                    font.Face
	textColor, hintColor    color.RGBA
	block                   image.Rectangle // every row
	textRows                []image.Rectangle
	entry                   image.Rectangle
	retryRow, capsRow       image.Rectangle // empty when not kept
	hintRow                 image.Rectangle // empty when left out
	entryColor, bulletColor color.RGBA
	retryColor, capsColor   color.RGBA
	// The texts of the lines: the theme's, else the locale's.
	promptText, retryText string
	capsText, hintText    string
	// The lines as they fit the screen.
	textFit                    []fitLine
	retryFit, capsFit, hintFit fitLine
	bullet                     *fbemu.Sprite
	pitch                      int // from one bullet to the next
	pad                        int // from the entry's left edge to the first bullet
	cursorW                    int
	maxBullets                 int

	// level is how far the block was made smaller to fit (promptLevel*),
	// scale the scale it is drawn at (the output's, or less when even
	// the smallest level does not fit).
	level int
	scale float64
	// cut says the prompt, the retry or the Caps Lock line was cut to
	// fit.
	cut bool
	// hide is what is not drawn while the question is open; logo and
	// logoRect, when logoMoved, are the logo as drawn then.
	hide      hidden
	logoMoved bool
	logo      *fbemu.Sprite
	logoRect  image.Rectangle
}

// hidden is a set of elements left out while a question is open.
type hidden uint8

const (
	hideLogo hidden = 1 << iota
	hideSpinner
	hideBar
	hideMessage
	hideStatus
	hideWarning
)

// The steps by which the prompt block is made smaller when it does not
// fit on the screen, in order; each keeps the ones before it.
const (
	promptLevelFull    = iota // everything, rows for the retry and Caps Lock lines kept
	promptLevelTight          // half the space between the rows
	promptLevelNoHint         // without the hint
	promptLevelCapsOn         // the Caps Lock row only while Caps Lock is on
	promptLevelRetryOn        // the retry row only while it is shown
	promptLevelOneLine        // the prompt on one line
	promptLevels
)

// promptMaxLines is how many lines a long prompt wraps onto before the
// last is cut with an ellipsis.
const promptMaxLines = 2

// fitLine is one line of text as it fits its row: on the fast path (line
// nil) or shaped, broken and cut by package text.
type fitLine struct {
	text string
	sh   *text.Shaper
	line *text.Line
	cut  bool // the text did not fit whole
}

// promptKey is what the prompt's arrangement depends on.
type promptKey struct {
	locale      string
	text        string
	retry, caps bool
}

// promptMargins are the margins the block keeps from the screen's edges:
// across as a wrapping message keeps (see wrapWidth), and down 2% of the
// height, at least 4 pixels.
func promptMargins(l *layout) (across, down int) {
	return max(8, l.w*3/100), max(4, l.h/50)
}

// fitText returns s on at most n lines of at most maxW pixels: one line
// on the fast path when it fits, else shaped and broken by Unicode's
// line-breaking rules, the last line kept ending in an ellipsis.
func (r *Renderer) fitText(pl *promptLayout, s string, maxW, n int) ([]fitLine, error) {
	if s == "" {
		return nil, nil
	}
	c := composed(s)
	if simpleText(pl.face, c) && font.MeasureString(pl.face, c).Ceil() <= maxW && !strings.ContainsAny(c, "\n\r\u2028\u2029\u0085") {
		return []fitLine{{text: s}}, nil
	}
	sh, err := r.shaper(pl.font, pl.fonts, pl.px)
	if err != nil {
		return nil, err
	}
	ls := sh.Layout(c, text.Options{MaxWidth: maxW, MaxLines: n})
	// Cut when the lines wrapped without limit are more or wider.
	all := sh.Layout(c, text.Options{MaxWidth: maxW})
	cut := len(all) > n
	for _, ln := range all {
		cut = cut || ln.Width.Ceil() > maxW
	}
	out := make([]fitLine, 0, len(ls))
	for i := range ls {
		out = append(out, fitLine{text: s, sh: sh, line: &ls[i], cut: cut})
	}
	return out, nil
}

// buildPrompt lays the block out at one level and scale, kept inside
// the screen's margins.
func (r *Renderer) buildPrompt(l *layout, p *theme.Prompt, k promptKey, level int, sc float64) (*promptLayout, error) {
	cat := r.catalogue()
	var fonts []string
	if p.Fonts != nil {
		fonts = *p.Fonts
	}
	pl := &promptLayout{
		font:        str(p.Font, ""),
		fonts:       fonts,
		px:          f64(p.Size, defaultPromptSize) * pointsToPixels * sc,
		textColor:   colorOr(p.Color, defaultTextColor),
		entryColor:  colorOr(p.EntryColor, defaultEntryColor),
		bulletColor: colorOr(p.BulletColor, defaultBulletColor),
		retryColor:  colorOr(p.RetryColor, defaultRetryColor),
		capsColor:   colorOr(p.CapsColor, defaultCapsColor),
		promptText:  cat.Get(locale.Password),
		retryText:   str(p.RetryText, cat.Get(locale.Retry)),
		capsText:    str(p.CapsText, cat.Get(locale.CapsLock)),
		hintText:    str(p.DetailsText, cat.Get(locale.Details)),
		cursorW:     max(1, int(math.Round(promptCursorWidthPx*sc))),
		level:       level,
		scale:       sc,
	}
	// The hint in the prompt's colour at 60%.
	tc := pl.textColor
	pl.hintColor = color.RGBA{uint8(uint16(tc.R) * 3 / 5), uint8(uint16(tc.G) * 3 / 5), uint8(uint16(tc.B) * 3 / 5), uint8(uint16(tc.A) * 3 / 5)}
	face, err := r.face(pl.font, pl.px)
	if err != nil {
		return nil, err
	}
	pl.face = face
	m := face.Metrics()
	lineH := int(math.Ceil(float64((m.Ascent + m.Descent).Ceil()) * promptLineSpacing))
	mx, my := promptMargins(l)
	w := max(8, min(l.w-2*mx, int(math.Round(f64(p.EntryWidth, defaultEntryWidth)*sc))))
	eh := max(4, int(math.Round(f64(p.EntryHeight, defaultEntryHeight)*sc)))
	gap := int(math.Round(promptGap * sc))
	if level >= promptLevelTight {
		gap /= 2
	}
	// Across: the theme's place, kept inside the margins; the texts may
	// be as wide as the screen allows around the entry's centre.
	x0 := place(&p.Place, image.Pt(w, 1), l.w, l.h, l.scale, nil).Min.X
	x0 = max(mx, min(x0, l.w-mx-w))
	cx := x0 + w/2
	textW := max(w, 2*min(cx-mx, l.w-mx-cx))

	text := k.text
	if text == "" {
		text = pl.promptText
	}
	maxLines := promptMaxLines
	if level >= promptLevelOneLine {
		maxLines = 1
	}
	var errs []error
	pl.textFit, err = r.fitText(pl, text, textW, maxLines)
	errs = append(errs, err)
	one := func(s string) fitLine {
		f, err := r.fitText(pl, s, textW, 1)
		errs = append(errs, err)
		if len(f) == 0 {
			return fitLine{}
		}
		return f[0]
	}
	withRetry := level < promptLevelRetryOn || k.retry
	withCaps := level < promptLevelCapsOn || k.caps
	withHint := level < promptLevelNoHint && pl.hintText != ""
	if withRetry {
		pl.retryFit = one(pl.retryText)
	}
	if withCaps {
		pl.capsFit = one(pl.capsText)
	}
	if withHint {
		pl.hintFit = one(pl.hintText)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	pl.cut = pl.retryFit.cut || pl.capsFit.cut || len(pl.textFit) > 0 && pl.textFit[0].cut

	h := max(1, len(pl.textFit))*lineH + gap + eh + gap
	for _, on := range []bool{withRetry, withCaps, withHint} {
		if on {
			h += lineH
		}
	}
	// Down: the theme's place, kept inside the margins (the top wins
	// when the block is taller than the screen).
	y := place(&p.Place, image.Pt(w, h), l.w, l.h, l.scale, nil).Min.Y
	y = max(my, min(y, l.h-my-h))
	textRow := func() image.Rectangle {
		rr := image.Rect(cx-textW/2, y, cx-textW/2+textW, y+lineH)
		y += lineH
		return rr
	}
	for range max(1, len(pl.textFit)) {
		pl.textRows = append(pl.textRows, textRow())
	}
	y += gap
	pl.entry = image.Rect(x0, y, x0+w, y+eh)
	y += eh + gap
	if withRetry {
		pl.retryRow = textRow()
	}
	if withCaps {
		pl.capsRow = textRow()
	}
	if withHint {
		pl.hintRow = textRow()
	}
	pl.block = pl.entry
	for _, rr := range append([]image.Rectangle{pl.retryRow, pl.capsRow, pl.hintRow}, pl.textRows...) {
		if !rr.Empty() {
			pl.block = pl.block.Union(rr)
		}
	}

	d := max(2, int(math.Round(f64(p.BulletSize, defaultBulletSize)*sc)))
	d = min(d, eh)
	pl.bullet = fbemu.NewSprite(disc(d, pl.bulletColor), l.format)
	pl.pitch = d + max(2, d/2)
	pl.pad = max(d/2, (eh-d)/2)
	fit := (w - 2*pl.pad - pl.cursorW) / pl.pitch
	pl.maxBullets = max(0, min(int(f64intp(p.MaxBullets, defaultMaxBullets)), fit))
	return pl, nil
}

// promptTexts returns the prompt's font, fallback fonts and size at the
// output's scale, and the texts p shows, without laying the block out.
func (r *Renderer) promptTexts(l *layout, p Prompt) (name string, fonts []string, px float64, texts []string) {
	tp := l.sec.Prompt
	if tp == nil {
		tp = &theme.Prompt{}
	}
	if tp.Fonts != nil {
		fonts = *tp.Fonts
	}
	cat := r.catalogue()
	text := p.Text
	if text == "" {
		text = cat.Get(locale.Password)
	}
	texts = []string{text, str(tp.DetailsText, cat.Get(locale.Details))}
	if !p.Password {
		texts = append(texts, p.Entry)
	}
	if p.Retry {
		texts = append(texts, str(tp.RetryText, cat.Get(locale.Retry)))
	}
	if p.CapsLock {
		texts = append(texts, str(tp.CapsText, cat.Get(locale.CapsLock)))
	}
	return str(tp.Font, ""), fonts, f64(tp.Size, defaultPromptSize) * pointsToPixels * l.scale, texts
}

// arrangePrompt lays out the question k on l, as a designer fits a
// dialog to a small screen (docs/themes.md has the same steps): the
// block is laid out in full where the theme places it, kept inside the
// screen's margins. When it overlaps another element it is made smaller
// (promptLevel*: less space between the rows, then without the hint);
// if it still overlaps something the fullest block that fits the
// screen's height is kept and the other elements make room. When it
// does not fit the screen's height it goes on to keep the Caps Lock and
// retry rows only while they are shown, then to come down in scale, to
// three quarters of the theme's size, before it cuts the prompt, the
// retry or the Caps Lock line; only then are lines cut and the prompt
// put on one line, at whatever scale fits. The elements make room: the
// logo moves, and shrinks if it must, into the larger free band above
// or below the block, and is hidden when less than a third of it would
// be left; the spinner, the bar, the message and the status are hidden
// while the question is open when they overlap the block or the moved
// logo.
func (r *Renderer) arrangePrompt(l *layout, k promptKey) (*promptLayout, error) {
	p := l.sec.Prompt
	if p == nil {
		y, anchor := defaultPromptY, "top"
		p = &theme.Prompt{Place: theme.Place{Y: &y, Anchor: &anchor}}
	}
	_, my := promptMargins(l)
	room := l.h - 2*my
	var last *promptLayout
	// try returns the first level up to top that fits at scale sc (with
	// the prompt, the retry and the Caps Lock lines whole unless cuts),
	// or nil.
	try := func(sc float64, top int, cuts bool) (*promptLayout, error) {
		var first *promptLayout
		for level := range top + 1 {
			pl, err := r.buildPrompt(l, p, k, level, sc)
			if err != nil {
				return nil, err
			}
			last = pl
			if pl.block.Dy() > room || pl.cut && !cuts {
				continue
			}
			if first == nil {
				first = pl
			}
			// At the output's scale the block is first made smaller
			// to keep clear of the other elements; failing that it is
			// kept whole and they make room.
			if level > promptLevelNoHint || sc != l.scale {
				break
			}
			if r.conflicts(l, pl.block.Inset(-max(2, int(math.Round(promptGap*sc/2))))) == 0 {
				return pl, nil
			}
		}
		return first, nil
	}
	// The output's scale, then smaller ones down to three quarters of
	// the theme's size, with every row's text whole; then lines cut and
	// the prompt on one line, from the output's scale down.
	floor := 0.75 * math.Min(1, l.scale)
	for pass := range 2 {
		sc := l.scale
		for step := 0; step < 40 && (pass == 1 || sc >= floor); step++ {
			top := promptLevelRetryOn
			if pass == 1 {
				top = promptLevels - 1
			}
			pl, err := try(sc, top, pass == 1)
			if err != nil {
				return nil, err
			}
			if pl != nil {
				return pl, r.makeRoom(l, pl)
			}
			sc *= 0.9
		}
	}
	return last, r.makeRoom(l, last) // nothing fits: the smallest tried
}

// elementBoxes are the boxes of the elements drawn beside the prompt, by
// what hides each; a text line's box is its whole row, whatever its text.
func (r *Renderer) elementBoxes(l *layout) map[hidden]image.Rectangle {
	out := map[hidden]image.Rectangle{}
	if l.logo != nil {
		out[hideLogo] = l.logoRect
	}
	if l.spinner != nil {
		out[hideSpinner] = l.spinner.rect
	}
	if l.bar != nil {
		out[hideBar] = l.bar.rect
	}
	for _, tx := range []struct {
		tl *textLayout
		h  hidden
	}{{l.message, hideMessage}, {l.status, hideStatus}, {l.warning, hideWarning}} {
		if tx.tl == nil {
			continue
		}
		box, err := r.lineBox(l, tx.tl, "")
		face, ferr := r.lineFace(tx.tl)
		if err != nil || ferr != nil {
			continue
		}
		d := face.Metrics().Descent.Ceil()
		out[tx.h] = image.Rect(0, box.Min.Y-d, l.w, box.Max.Y+d)
	}
	return out
}

// conflicts counts the elements whose boxes overlap zone.
func (r *Renderer) conflicts(l *layout, zone image.Rectangle) int {
	n := 0
	for _, b := range r.elementBoxes(l) {
		if b.Overlaps(zone) {
			n++
		}
	}
	return n
}

// makeRoom moves the logo out of the block's way and hides the elements
// it still overlaps (see arrangePrompt).
func (r *Renderer) makeRoom(l *layout, pl *promptLayout) error {
	g := max(2, int(math.Round(promptGap*pl.scale/2)))
	zone := pl.block.Inset(-g)
	boxes := r.elementBoxes(l)
	var err error
	if lr, ok := boxes[hideLogo]; ok && lr.Overlaps(zone) {
		err = r.moveLogo(l, pl, zone)
		if pl.hide&hideLogo == 0 {
			zone2 := pl.logoRect
			for h, b := range boxes {
				if h != hideLogo && b.Overlaps(zone2) {
					pl.hide |= h
				}
			}
		}
	}
	for h, b := range boxes {
		if h != hideLogo && b.Overlaps(zone) {
			pl.hide |= h
		}
	}
	return err
}

// moveLogo puts the logo in the larger free band above or below zone,
// as near its place as it can, shrunk to fit; it hides the logo when
// less than a third of it would be left, or when the firmware's logo
// (never scaled) would have to shrink.
func (r *Renderer) moveLogo(l *layout, pl *promptLayout, zone image.Rectangle) error {
	mx, my := promptMargins(l)
	lr := l.logoRect
	lw, lh := float64(lr.Dx()), float64(lr.Dy())
	// Built by hand: image.Rect would turn a band of negative height
	// the right way up.
	bands := []image.Rectangle{
		{image.Pt(mx, my), image.Pt(l.w-mx, zone.Min.Y)},
		{image.Pt(mx, zone.Max.Y), image.Pt(l.w-mx, l.h-my)},
	}
	best, bestK := image.Rectangle{}, 0.0
	for _, b := range bands {
		if b.Empty() {
			continue
		}
		if k := math.Min(1, math.Min(float64(b.Dx())/lw, float64(b.Dy())/lh)); k > bestK {
			best, bestK = b, k
		}
	}
	pl.logoMoved = true
	if bestK < 1.0/3 || bestK < 1 && l.logoFirmware {
		pl.hide |= hideLogo
		return nil
	}
	sz := image.Pt(max(1, int(math.Floor(lw*bestK))), max(1, int(math.Floor(lh*bestK))))
	c := image.Pt((lr.Min.X+lr.Max.X)/2, (lr.Min.Y+lr.Max.Y)/2)
	at := image.Pt(c.X-sz.X/2, c.Y-sz.Y/2)
	at.X = max(best.Min.X, min(at.X, best.Max.X-sz.X))
	at.Y = max(best.Min.Y, min(at.Y, best.Max.Y-sz.Y))
	pl.logoRect = image.Rectangle{at, at.Add(sz)}
	pl.logo = l.logo
	if sz != lr.Size() {
		sp, err := r.theme.Sprite(*l.sec.Logo.Image, sz.X, sz.Y, l.format)
		if err != nil {
			pl.hide |= hideLogo
			return fmt.Errorf("logo: %w (hidden while the question is open)", err)
		}
		pl.logo = sp
	}
	return nil
}

// disc is a filled circle of diameter d in c, its edge anti-aliased.
func disc(d int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, d, d))
	rad := float64(d) / 2
	for y := range d {
		for x := range d {
			// Coverage by 4x4 samples.
			n := 0
			for sy := range 4 {
				for sx := range 4 {
					dx := float64(x) + (float64(sx)+0.5)/4 - rad
					dy := float64(y) + (float64(sy)+0.5)/4 - rad
					if dx*dx+dy*dy <= rad*rad {
						n++
					}
				}
			}
			k := float64(n) / 16
			img.SetRGBA(x, y, color.RGBA{uint8(float64(c.R) * k), uint8(float64(c.G) * k), uint8(float64(c.B) * k), uint8(float64(c.A) * k)})
		}
	}
	return img
}

// bullets is how many bullets p shows.
func (pl *promptLayout) bullets(p Prompt) int {
	if !p.Password {
		return 0
	}
	return min(p.Bullets, pl.maxBullets)
}

// bulletRect is the place of bullet i (from 0); the cursor stands at
// bulletRect(n).Min.X.
func (pl *promptLayout) bulletRect(i int) image.Rectangle {
	d := pl.bullet.Bounds().Dx()
	x := pl.entry.Min.X + pl.pad + i*pl.pitch
	y := pl.entry.Min.Y + (pl.entry.Dy()-d)/2
	return image.Rect(x, y, x+d, y+d)
}

// cursorRect is the cursor after n bullets.
func (pl *promptLayout) cursorRect(n int) image.Rectangle {
	b := pl.bulletRect(n)
	return image.Rect(b.Min.X, b.Min.Y, b.Min.X+pl.cursorW, b.Max.Y)
}

// promptFor returns the prompt's arrangement for p on l, making it the
// first time.
func (r *Renderer) promptFor(l *layout, p Prompt) (*promptLayout, error) {
	k := promptKey{r.locale, p.Text, p.Retry, p.CapsLock}
	if pl := l.prompts[k]; pl != nil {
		l.prompt = pl
		return pl, nil
	}
	pl, err := r.arrangePrompt(l, k)
	if pl == nil {
		return nil, err
	}
	// A few are kept (a question with and without Caps Lock and a
	// retry): each may hold a logo scaled for it.
	if l.prompts == nil || len(l.prompts) >= 4 {
		l.prompts = make(map[promptKey]*promptLayout)
	}
	l.prompts[k], l.prompt = pl, pl
	return pl, err
}

// lines are the text lines p shows, with their rows and colours: the
// prompt (the locale's when the asker sent none) on its rows, the typed
// text of a question, the retry and Caps Lock lines and the hint.
func (pl *promptLayout) lines(p Prompt) []promptLine {
	if !p.Active {
		return nil
	}
	var out []promptLine
	for i, f := range pl.textFit {
		out = append(out, promptLine{f.text, pl.textRows[i], pl.textColor, false, f})
	}
	if e := p.Entry; !p.Password && e != "" {
		// The end of a long answer, as a text field scrolls.
		for e != "" && font.MeasureString(pl.face, e).Ceil() > pl.entry.Dx()-2*pl.pad {
			_, n := utf8.DecodeRuneInString(e)
			e = e[n:]
		}
		out = append(out, promptLine{e, pl.entry, pl.textColor, true, fitLine{text: e}})
	}
	for _, ln := range []struct {
		on  bool
		f   fitLine
		row image.Rectangle
		c   color.RGBA
	}{{p.Retry, pl.retryFit, pl.retryRow, pl.retryColor}, {p.CapsLock, pl.capsFit, pl.capsRow, pl.capsColor}, {true, pl.hintFit, pl.hintRow, pl.hintColor}} {
		if ln.on && ln.f.text != "" && !ln.row.Empty() {
			out = append(out, promptLine{ln.f.text, ln.row, ln.c, false, ln.f})
		}
	}
	return out
}

type promptLine struct {
	text  string
	row   image.Rectangle
	color color.RGBA
	left  bool    // from the entry's padding rather than centred
	fit   fitLine // the line as broken and cut to fit (fit.line nil: text as it is)
}

// textLine is line as the text path draws it: Latin on the fast path,
// anything else shaped, in the prompt's fonts.
func (pl *promptLayout) textLine(line promptLine) textLine {
	return textLine{Font: pl.font, Fallback: pl.fonts, Px: pl.px, Face: pl.face, Text: line.text}
}

// dot is where line's baseline starts: centred on its shaped advance.
func (r *Renderer) promptDot(pl *promptLayout, line promptLine) (image.Point, error) {
	m := pl.face.Metrics()
	base := line.row.Min.Y + (line.row.Dy()-(m.Ascent+m.Descent).Ceil())/2 + m.Ascent.Ceil()
	if line.left {
		return image.Pt(line.row.Min.X+pl.pad, base), nil
	}
	if ln := line.fit.line; ln != nil {
		return image.Pt(line.row.Min.X+(line.row.Dx()-ln.Width.Ceil())/2, base), nil
	}
	adv, err := r.lineAdvance(pl.textLine(line))
	return image.Pt(line.row.Min.X+(line.row.Dx()-adv.Ceil())/2, base), err
}

// promptInk is the pixels line touches.
func (r *Renderer) promptInk(pl *promptLayout, line promptLine) (image.Rectangle, error) {
	if line.text == "" {
		return image.Rectangle{}, nil
	}
	at, err := r.promptDot(pl, line)
	if err != nil {
		return image.Rectangle{}, err
	}
	if ln := line.fit.line; ln != nil {
		return line.fit.sh.Ink(*ln, at), nil
	}
	return r.lineInk(pl.textLine(line), at)
}

// drawPromptLine draws line.
func (r *Renderer) drawPromptLine(s *fbemu.Surface, pl *promptLayout, line promptLine) error {
	at, err := r.promptDot(pl, line)
	if err != nil {
		return err
	}
	if ln := line.fit.line; ln != nil {
		line.fit.sh.Draw(s, *ln, at, line.color)
		return nil
	}
	return r.drawLine(s, pl.textLine(line), at, line.color)
}

// promptArrangement returns the prompt's arrangement for st, or nil
// when no question is open.
func (r *Renderer) promptArrangement(l *layout, st State) (*promptLayout, error) {
	if !st.Prompt.Active {
		return nil, nil
	}
	return r.promptFor(l, st.Prompt)
}

// paintPrompt draws the prompt inside clip, over what paintRect drew.
// Text lines are drawn whole when they touch clip (Update grows clip to
// hold them, see promptBoxes).
func (r *Renderer) paintPrompt(s *fbemu.Surface, pl *promptLayout, st State, clip image.Rectangle) error {
	p := st.Prompt
	if !p.Active || pl == nil {
		return nil
	}
	if e := pl.entry.Intersect(clip); !e.Empty() {
		s.BlendRect(e, pl.entryColor)
	}
	n := pl.bullets(p)
	for i := range n {
		blit(s, pl.bullet, pl.bulletRect(i), clip)
	}
	if p.Password {
		if c := pl.cursorRect(n).Intersect(clip); !c.Empty() {
			s.BlendRect(c, pl.bulletColor)
		}
	}
	var errs []error
	for _, line := range pl.lines(p) {
		ink, err := r.promptInk(pl, line)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ink.Intersect(s.Bounds()).Overlaps(clip) {
			errs = append(errs, r.drawPromptLine(s, pl, line))
		}
	}
	return errors.Join(errs...)
}

// rearranges reports whether the splash around the block differs from
// the layout's while pl is shown.
func (pl *promptLayout) rearranges() bool {
	return pl != nil && (pl.hide != 0 || pl.logoMoved)
}

// promptChange returns what differs on screen between two prompts: the
// bullets and cursor between the two counts, the lines whose text
// changed, the whole block when the prompt came or went or was laid out
// anew, or the whole screen when elements made room for it.
func (r *Renderer) promptChange(l *layout, old, new Prompt) ([]image.Rectangle, error) {
	if old == new {
		return nil, nil
	}
	var op, np *promptLayout
	var errs []error
	for _, c := range []struct {
		p  Prompt
		pl **promptLayout
	}{{old, &op}, {new, &np}} {
		if c.p.Active {
			pl, err := r.promptFor(l, c.p)
			errs = append(errs, err)
			*c.pl = pl
		}
	}
	if err := errors.Join(errs...); op == nil && old.Active || np == nil && new.Active {
		return nil, err
	}
	if op != np || old.Password != new.Password {
		if op.rearranges() || np.rearranges() {
			return []image.Rectangle{image.Rect(0, 0, l.w, l.h)}, nil
		}
		var out []image.Rectangle
		for _, pl := range []*promptLayout{op, np} {
			if pl != nil {
				out = append(out, pl.block)
			}
		}
		return out, nil
	}
	pl := np
	var dirty []image.Rectangle
	if ob, nb := pl.bullets(old), pl.bullets(new); ob != nb {
		lo, hi := min(ob, nb), max(ob, nb)
		dirty = append(dirty, pl.bulletRect(lo).Union(pl.cursorRect(hi)).Union(pl.cursorRect(lo)))
	}
	if old.Entry != new.Entry {
		dirty = append(dirty, pl.entry)
	}
	return dirty, nil
}

// promptBoxes are the ink boxes of the lines p draws, for Update to grow
// its rectangles to.
func (r *Renderer) promptBoxes(l *layout, p Prompt, bounds image.Rectangle) ([]image.Rectangle, error) {
	if !p.Active {
		return nil, nil
	}
	pl, err := r.promptFor(l, p)
	if err != nil {
		return nil, err
	}
	var out []image.Rectangle
	var errs []error
	for _, line := range pl.lines(p) {
		ink, err := r.promptInk(pl, line)
		errs = append(errs, err)
		if b := ink.Intersect(bounds); !b.Empty() {
			out = append(out, b)
		}
	}
	return out, errors.Join(errs...)
}
