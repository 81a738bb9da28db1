package splash

import (
	"errors"
	"image"
	"image/color"
	"math"

	"golang.org/x/image/font"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
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

// promptLayout is the prompt block laid out on one output: the prompt
// line, the entry, the retry and Caps Lock lines and the hint that
// Escape shows the details, top to bottom, each row the block's width;
// the texts are centred in their rows.
type promptLayout struct {
	font                    string
	fonts                   []string
	px                      float64
	face                    font.Face
	textColor, hintColor    color.RGBA
	block                   image.Rectangle
	textRow, entry          image.Rectangle
	retryRow, capsRow       image.Rectangle
	hintRow                 image.Rectangle
	entryColor, bulletColor color.RGBA
	retryColor, capsColor   color.RGBA
	// The texts of the lines: the theme's, else the locale's.
	promptText, retryText string
	capsText, hintText    string
	bullet                *fbemu.Sprite
	pitch                 int // from one bullet to the next
	pad                   int // from the entry's left edge to the first bullet
	cursorW               int
	maxBullets            int
}

// newPromptLayout lays the [prompt] table out on l (the defaults when
// the theme has none).
func (r *Renderer) newPromptLayout(l *layout) (*promptLayout, error) {
	p := l.sec.Prompt
	if p == nil {
		y, anchor := defaultPromptY, "top"
		p = &theme.Prompt{Place: theme.Place{Y: &y, Anchor: &anchor}}
	}
	sc := l.scale
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
	w := min(l.w, max(8, int(math.Round(f64(p.EntryWidth, defaultEntryWidth)*sc))))
	eh := max(4, int(math.Round(f64(p.EntryHeight, defaultEntryHeight)*sc)))
	gap := int(math.Round(promptGap * sc))
	h := lineH + gap + eh + gap + 2*lineH
	if pl.hintText != "" {
		h += lineH
	}
	pl.block = place(&p.Place, image.Pt(w, h), l.w, l.h, sc, nil)
	x0, y := pl.block.Min.X, pl.block.Min.Y
	row := func(height int) image.Rectangle {
		rr := image.Rect(x0, y, x0+w, y+height)
		y += height
		return rr
	}
	pl.textRow = row(lineH)
	y += gap
	pl.entry = row(eh)
	y += gap
	pl.retryRow = row(lineH)
	pl.capsRow = row(lineH)
	if pl.hintText != "" {
		pl.hintRow = row(lineH)
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

// promptFor returns the prompt's layout on l, making it the first time.
func (r *Renderer) promptFor(l *layout) (*promptLayout, error) {
	if l.prompt == nil {
		pl, err := r.newPromptLayout(l)
		if err != nil {
			return nil, err
		}
		l.prompt = pl
	}
	return l.prompt, nil
}

// lines are the text lines p shows, with their rows and colours: the
// prompt (the locale's when the asker sent none), the typed text of a
// question, the retry and Caps Lock lines and the hint.
func (pl *promptLayout) lines(p Prompt) []promptLine {
	if !p.Active {
		return nil
	}
	text := p.Text
	if text == "" {
		text = pl.promptText
	}
	out := []promptLine{{text, pl.textRow, pl.textColor, false}}
	if !p.Password && p.Entry != "" {
		out = append(out, promptLine{p.Entry, pl.entry, pl.textColor, true})
	}
	if p.Retry {
		out = append(out, promptLine{pl.retryText, pl.retryRow, pl.retryColor, false})
	}
	if p.CapsLock {
		out = append(out, promptLine{pl.capsText, pl.capsRow, pl.capsColor, false})
	}
	if pl.hintText != "" {
		out = append(out, promptLine{pl.hintText, pl.hintRow, pl.hintColor, false})
	}
	return out
}

type promptLine struct {
	text  string
	row   image.Rectangle
	color color.RGBA
	left  bool // from the entry's padding rather than centred
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
	return r.lineInk(pl.textLine(line), at)
}

// paintPrompt draws the prompt inside clip, over what paintRect drew.
// Text lines are drawn whole when they touch clip (Update grows clip to
// hold them, see promptBoxes).
func (r *Renderer) paintPrompt(s *fbemu.Surface, l *layout, st State, clip image.Rectangle) error {
	p := st.Prompt
	if !p.Active {
		return nil
	}
	pl, err := r.promptFor(l)
	if err != nil {
		return err
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
			at, _ := r.promptDot(pl, line)
			errs = append(errs, r.drawLine(s, pl.textLine(line), at, line.color))
		}
	}
	return errors.Join(errs...)
}

// promptChange returns what differs on screen between two prompts: the
// bullets and cursor between the two counts, the lines whose text
// changed, or the whole block when the prompt came or went.
func (r *Renderer) promptChange(l *layout, old, new Prompt) ([]image.Rectangle, error) {
	if old == new {
		return nil, nil
	}
	pl, err := r.promptFor(l)
	if err != nil {
		return nil, err
	}
	if old.Active != new.Active || old.Text != new.Text || old.Password != new.Password {
		return []image.Rectangle{pl.block}, nil
	}
	var dirty []image.Rectangle
	if ob, nb := pl.bullets(old), pl.bullets(new); ob != nb {
		lo, hi := min(ob, nb), max(ob, nb)
		dirty = append(dirty, pl.bulletRect(lo).Union(pl.cursorRect(hi)).Union(pl.cursorRect(lo)))
	}
	if old.Entry != new.Entry {
		dirty = append(dirty, pl.entry)
	}
	if old.Retry != new.Retry {
		dirty = append(dirty, pl.retryRow)
	}
	if old.CapsLock != new.CapsLock {
		dirty = append(dirty, pl.capsRow)
	}
	return dirty, nil
}

// promptBoxes are the ink boxes of the lines p draws, for Update to grow
// its rectangles to.
func (r *Renderer) promptBoxes(l *layout, p Prompt, bounds image.Rectangle) ([]image.Rectangle, error) {
	if !p.Active {
		return nil, nil
	}
	pl, err := r.promptFor(l)
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
