package splash

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	xdraw "golang.org/x/image/draw"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// Defaults for keys a theme leaves unset.
const (
	defaultBarWidth    = 0.3
	defaultBarHeight   = 6
	defaultPulseWidth  = 0.3
	defaultPulsePeriod = 1.6 // seconds for one sweep and back
	defaultTextSize    = 12  // points
	defaultSpinnerSize = 32
	defaultSpinnerDots = 12
	defaultFPS         = 30
	// pointsToPixels is 96 dpi, the density at scale 1.
	pointsToPixels = 96.0 / 72.0
)

var (
	defaultBarColor    = color.RGBA{0x5a, 0xb0, 0xff, 0xff}
	defaultTrackColor  = color.RGBA{0x1f, 0x1f, 0x1f, 0x1f}
	defaultBorderColor = color.RGBA{0x40, 0x40, 0x40, 0x40}
	defaultTextColor   = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	defaultSpinColor   = color.RGBA{0xcc, 0xcc, 0xcc, 0xcc}
)

// layout is a theme laid out on one output: a w x h surface (in its
// rotated geometry) of one format at one scale. Everything that does not
// depend on the State is computed here once.
type layout struct {
	w, h   int
	format fbemu.Format
	scale  float64
	sec    *theme.Sections

	// background
	solid    color.RGBA
	gradient bool
	top, bot color.RGBA
	bgImage  *fbemu.Sprite
	bgRect   image.Rectangle
	bgCovers bool // the image is opaque and covers the screen
	logo     *fbemu.Sprite
	logoRect image.Rectangle
	bar      *barLayout
	message  *textLayout
	status   *textLayout
	// warning is the [secure_boot] line, nil unless the theme has one
	// and the firmware says Secure Boot is off.
	warning *textLayout
	spinner *spinnerLayout
	prompt  *promptLayout // the arrangement of the prompt drawn last
	// prompts are the prompt's arrangements, made when each is first
	// drawn (see arrangePrompt).
	prompts      map[promptKey]*promptLayout
	logoFirmware bool // the logo is the firmware's
	fps          int
	pulseLen     int // frames for one pulse sweep and back
}

// barLayout is the progress bar's geometry and colours, in pixels.
type barLayout struct {
	rect              image.Rectangle
	radius, border    float64
	fill, track, edge color.RGBA
	pulseWidth        float64 // fraction of the track
	// inner and ring are the coverage of the track and of the border
	// ring per pixel, row-major (see coverage).
	inner, ring []float32
}

// textLayout says where a text line goes; its box depends on the text.
type textLayout struct {
	font  string
	fonts []string // fallback fonts of the theme
	// maxLines is how many lines a line too long for the screen wraps
	// onto; 1 shortens it in its middle instead.
	maxLines int
	px       float64
	color    color.RGBA
	place    *theme.Place
	// below is the rectangle the line is placed under, or nil.
	below func() (image.Rectangle, error)
}

// spinnerLayout is the spinner's place and frames.
type spinnerLayout struct {
	rect   image.Rectangle
	frames []string // PNG frames, or nil for the procedural spinner
	n      int      // frame count
	dots   int
	color  color.RGBA
}

func f64(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

func str(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

func colorOr(p *string, def color.RGBA) color.RGBA {
	if p == nil {
		return def
	}
	c, err := theme.ParseColor(*p)
	if err != nil {
		return def // validated at load; unreachable
	}
	return c
}

// place puts a box of size sz on the w x h screen as p says: the
// anchor's point of the box goes to (x*w, y*h) plus the offset times the
// scale, or, with "below", its top goes under the rectangle under.
func place(p *theme.Place, sz image.Point, w, h int, scale float64, under *image.Rectangle) image.Rectangle {
	anchor := str(p.Anchor, "center")
	ax, ay := theme.AnchorPoint(anchor)
	x, y := f64(p.X, ax), f64(p.Y, ay)
	var ox, oy float64
	if p.Offset != nil && len(*p.Offset) == 2 {
		ox, oy = (*p.Offset)[0], (*p.Offset)[1]
	}
	px := x*float64(w) + ox*scale - ax*float64(sz.X)
	py := y*float64(h) + oy*scale - ay*float64(sz.Y)
	if under != nil {
		py = float64(under.Max.Y) + oy*scale
	}
	min := image.Pt(int(math.Round(px)), int(math.Round(py)))
	return image.Rectangle{min, min.Add(sz)}
}

// newLayout lays the theme out on a w x h surface of format f.
func (r *Renderer) newLayout(w, h int, f fbemu.Format) (*layout, error) {
	t := r.theme
	sec := t.Resolve(w, h)
	l := &layout{w: w, h: h, format: f, scale: r.scale, sec: sec, fps: defaultFPS}
	var errs []error
	sc := r.scale

	// Background: colour, gradient, then an optional image on top.
	if b := sec.Background; b != nil {
		l.solid = colorOr(b.Color, color.RGBA{0, 0, 0, 0xff})
		if b.Top != nil && b.Bottom != nil {
			l.gradient = true
			l.top, l.bot = colorOr(b.Top, l.solid), colorOr(b.Bottom, l.solid)
		}
		if b.Image != nil {
			if err := l.backgroundImage(t, *b.Image, str(b.Fit, "cover")); err != nil {
				errs = append(errs, fmt.Errorf("background: %w", err))
				l.bgImage, l.bgCovers = nil, false
			}
		}
	} else {
		l.solid = color.RGBA{0, 0, 0, 0xff}
	}
	l.solid.A = 0xff // the screen has no alpha

	if lg := sec.Logo; lg != nil {
		fw := false
		if lg.Firmware != nil && *lg.Firmware && r.fwLogo != nil {
			err := l.placeFirmwareLogo(r.fwLogo, r.fwMode)
			if fw = err == nil; !fw {
				errs = append(errs, fmt.Errorf("logo: %w (the theme's image is drawn instead)", err))
			}
		}
		l.logoFirmware = fw
		if !fw && lg.Image != nil {
			if err := l.placeLogo(t, lg); err != nil {
				errs = append(errs, fmt.Errorf("logo: %w", err))
				l.logo = nil
			}
		}
	}
	under := func(name *string) *image.Rectangle {
		if name == nil {
			return nil
		}
		switch *name {
		case "logo":
			if l.logo != nil {
				return &l.logoRect
			}
		case "progress":
			if l.bar != nil {
				return &l.bar.rect
			}
		}
		return nil
	}

	if sp := sec.Spinner; sp != nil {
		l.fps = max(1, int(f64intp(sp.FPS, defaultFPS)))
	}
	if p := sec.Progress; p != nil {
		bw := f64(p.Width, defaultBarWidth) * float64(w)
		if p.MinWidth != nil {
			bw = math.Max(bw, *p.MinWidth*sc)
		}
		if p.MaxWidth != nil && *p.MaxWidth > 0 {
			bw = math.Min(bw, *p.MaxWidth*sc)
		}
		bw = math.Min(bw, float64(w))
		bh := math.Max(1, math.Round(f64(p.Height, defaultBarHeight)*sc))
		sz := image.Pt(max(1, int(math.Round(bw))), int(bh))
		b := &barLayout{
			radius:     f64(p.Radius, float64(sz.Y)/2/sc) * sc,
			border:     math.Round(f64(p.Border, 0) * sc),
			fill:       colorOr(p.Color, defaultBarColor),
			track:      colorOr(p.Track, defaultTrackColor),
			edge:       colorOr(p.BorderColor, defaultBorderColor),
			pulseWidth: f64(p.PulseWidth, defaultPulseWidth),
		}
		b.radius = math.Min(b.radius, math.Min(float64(sz.X), float64(sz.Y))/2)
		b.rect = place(&p.Place, sz, w, h, sc, under(p.Below))
		l.bar = b
		l.pulseLen = max(2, int(math.Round(f64(p.PulsePeriod, defaultPulsePeriod)*float64(l.fps))))
	}

	text := func(tf *theme.Text, below func() (image.Rectangle, error)) *textLayout {
		if tf == nil {
			return nil
		}
		var fonts []string
		if tf.Fonts != nil {
			fonts = *tf.Fonts
		}
		return &textLayout{
			font:     str(tf.Font, ""),
			fonts:    fonts,
			maxLines: max(1, int(f64intp(tf.MaxLines, 1))),
			px:       f64(tf.Size, defaultTextSize) * pointsToPixels * sc,
			color:    colorOr(tf.Color, defaultTextColor),
			place:    &tf.Place,
			below:    below,
		}
	}
	fixed := func(name *string) func() (image.Rectangle, error) {
		u := under(name)
		if u == nil {
			return nil
		}
		r := *u
		return func() (image.Rectangle, error) { return r, nil }
	}
	if m := sec.Message; m != nil {
		l.message = text(m, fixed(m.Below))
	}
	if s := sec.Status; s != nil {
		below := fixed(s.Below)
		if s.Below != nil && *s.Below == "message" && l.message != nil {
			// The status line goes under the message's line box, which
			// needs the message font: computed when text is first drawn.
			below = func() (image.Rectangle, error) { return r.lineBox(l, l.message, "") }
		}
		l.status = text(s, below)
	}
	if sb := sec.SecureBoot; sb != nil && r.secureBoot == display.SecureBootOff {
		l.warning = text(sb.Line(), fixed(sb.Below))
	}

	if sp := sec.Spinner; sp != nil {
		s := &spinnerLayout{dots: int(f64intp(sp.Dots, defaultSpinnerDots)), color: colorOr(sp.Color, defaultSpinColor)}
		var sz image.Point
		if sp.Frames != nil {
			names, err := t.FrameNames(*sp.Frames)
			var first image.Point
			if err == nil {
				first, err = t.ImageSize(names[0])
			}
			if err != nil {
				return l, errors.Join(append(errs, fmt.Errorf("spinner: %w", err))...)
			}
			s.frames, s.n = names, len(names)
			sz = fitScreen(image.Pt(max(1, int(math.Round(float64(first.X)*sc))), max(1, int(math.Round(float64(first.Y)*sc)))), w, h)
			// Each frame is scaled once and kept: together they may
			// take no more than the theme's images may.
			if px := int64(s.n) * int64(sz.X) * int64(sz.Y); px > int64(t.MaxThemePixels()) {
				return l, errors.Join(append(errs, fmt.Errorf("spinner: %d frames of %dx%d (scale %g) are %d pixels, %w of %d", s.n, sz.X, sz.Y, sc, px, theme.ErrBudget, t.MaxThemePixels()))...)
			}
		} else {
			d := max(4, int(math.Round(f64(sp.Size, defaultSpinnerSize)*sc)))
			sz = fitScreen(image.Pt(d, d), w, h)
			s.n = l.fps // one turn a second
		}
		s.rect = place(&sp.Place, sz, w, h, sc, under(sp.Below))
		l.spinner = s
	}
	return l, errors.Join(errs...)
}

// fitScreen shrinks a sprite's size, keeping its aspect, until it fits
// a w x h screen: a sprite is never larger than the screen it is drawn
// on, whatever the scale (a 4096-pixel frame at scale 8 would otherwise
// be scaled to 32768 x 32768).
func fitScreen(sz image.Point, w, h int) image.Point {
	k := math.Min(1, math.Min(float64(w)/float64(sz.X), float64(h)/float64(sz.Y)))
	if k >= 1 {
		return sz
	}
	return image.Pt(max(1, min(w, int(math.Round(float64(sz.X)*k)))), max(1, min(h, int(math.Round(float64(sz.Y)*k)))))
}

// placeLogo scales the logo by the output scale (and the theme's own
// scale), shrinks it to max_width and max_height, and places it.
func (l *layout) placeLogo(t *theme.Theme, lg *theme.Logo) error {
	size, err := t.ImageSize(*lg.Image)
	if err != nil {
		return err
	}
	w, h, sc := l.w, l.h, l.scale
	k := sc * f64(lg.Scale, 1)
	fw, fh := float64(size.X)*k, float64(size.Y)*k
	if m := f64(lg.MaxWidth, 1) * float64(w); fw > m {
		fw, fh = m, fh*m/fw
	}
	if m := f64(lg.MaxHeight, 1) * float64(h); fh > m {
		fw, fh = fw*m/fh, m
	}
	sz := image.Pt(max(1, int(math.Round(fw))), max(1, int(math.Round(fh))))
	if l.logo, err = t.Sprite(*lg.Image, sz.X, sz.Y, l.format); err != nil {
		return err
	}
	l.logoRect = place(&lg.Place, sz, w, h, sc, nil)
	return nil
}

// placeFirmwareLogo places the firmware's logo as fw.Place says (where
// the firmware drew it, in the firmware's mode) and makes it opaque, as
// the firmware blitted it: a 32-bit bitmap's fourth byte is not alpha to
// the firmware.
func (l *layout) placeFirmwareLogo(fw *display.FirmwareLogo, mode image.Point) error {
	if fw.Orientation != 0 {
		return fmt.Errorf("the firmware logo asks to be turned %d degrees", fw.Orientation)
	}
	rect, err := fw.Place(mode, image.Pt(l.w, l.h))
	if err != nil {
		return err
	}
	img := opaque(fw.Image)
	if img.Bounds().Size() != rect.Size() {
		dst := image.NewRGBA(image.Rectangle{Max: rect.Size()})
		xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, img.Bounds(), xdraw.Src, nil)
		img = dst
	}
	l.logo, l.logoRect = fbemu.NewSprite(img, l.format), rect
	return nil
}

// opaque is src with every pixel's colour as it is stored and alpha
// 0xff: what a firmware's blit of the bitmap puts on screen, whatever
// the bitmap's fourth byte says.
func opaque(src image.Image) *image.RGBA {
	b := src.Bounds()
	img := image.NewRGBA(image.Rectangle{Max: b.Size()})
	if n, ok := src.(*image.NRGBA); ok {
		for y := range b.Dy() {
			copy(img.Pix[y*img.Stride:y*img.Stride+4*b.Dx()], n.Pix[n.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	} else {
		xdraw.Draw(img, img.Bounds(), src, b.Min, xdraw.Src)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 0xff
	}
	return img
}

func f64intp(p *int, def int) float64 {
	if p == nil {
		return float64(def)
	}
	return float64(*p)
}

// backgroundImage places the background image as fit says: "cover" fills
// the screen and crops, "contain" fits inside it, "stretch" fills it
// ignoring the aspect ratio, "center" keeps the size times the scale.
func (l *layout) backgroundImage(t *theme.Theme, name, fit string) error {
	size, err := t.ImageSize(name)
	if err != nil {
		return err
	}
	iw, ih := float64(size.X), float64(size.Y)
	sw, sh := float64(l.w), float64(l.h)
	var sz image.Point
	switch fit {
	case "stretch":
		sz = image.Pt(l.w, l.h)
	case "center":
		sz = image.Pt(max(1, int(math.Round(iw*l.scale))), max(1, int(math.Round(ih*l.scale))))
	case "contain":
		k := math.Min(sw/iw, sh/ih)
		sz = image.Pt(max(1, int(math.Round(iw*k))), max(1, int(math.Round(ih*k))))
	default: // cover
		k := math.Max(sw/iw, sh/ih)
		sz = image.Pt(max(l.w, int(math.Round(iw*k))), max(l.h, int(math.Round(ih*k))))
	}
	min := image.Pt((l.w-sz.X)/2, (l.h-sz.Y)/2)
	l.bgRect = image.Rectangle{min, min.Add(sz)}
	// A cover or centred image larger than the screen is cut to it here,
	// so the sprite kept is never bigger than the screen.
	screen := image.Rect(0, 0, l.w, l.h)
	if fit == "cover" || fit == "center" && !l.bgRect.In(screen) {
		vis := screen.Intersect(l.bgRect)
		sp, err := t.CroppedSprite(name, sz, vis.Sub(min), l.format)
		if err != nil {
			return err
		}
		l.bgImage, l.bgRect = sp, vis
	} else if l.bgImage, err = t.Sprite(name, sz.X, sz.Y, l.format); err != nil {
		return err
	}
	l.bgCovers = l.bgImage.Opaque() && screen.In(l.bgRect)
	return nil
}
