package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
)

// benchSizes are the screen sizes the benchmarks run at.
var benchSizes = []image.Point{{1920, 1080}, {800, 480}}

// vsBaseline times ours (b.N times, with the benchmark timer) and base
// (as many times, untimed by the benchmark) in alternating rounds, so that
// both see the same machine load, and reports "speedup": base time over
// ours (above 1 is faster than the baseline, 0.9 is 10% slower).
func vsBaseline(b *testing.B, ours, base func()) float64 {
	b.Helper()
	b.StopTimer()
	b.ResetTimer() // setup is not part of the measurement
	const rounds = 8
	var baseTime time.Duration
	done := 0
	for r := 0; r < rounds; r++ {
		n := (b.N*(r+1))/rounds - done
		if n == 0 {
			continue
		}
		base()
		start := time.Now()
		for i := 0; i < n; i++ {
			base()
		}
		baseTime += time.Since(start)
		ours() // steady state again after the baseline ran
		b.StartTimer()
		for i := 0; i < n; i++ {
			ours()
		}
		b.StopTimer()
		done += n
	}
	speedup := float64(baseTime) / float64(b.Elapsed())
	b.ReportMetric(speedup, "speedup")
	return speedup
}

func forSizes(b *testing.B, f func(b *testing.B, w, h int)) {
	for _, sz := range benchSizes {
		b.Run(fmt.Sprintf("%dx%d", sz.X, sz.Y), func(b *testing.B) { f(b, sz.X, sz.Y) })
	}
}

// BenchmarkFill fills the whole screen; the baseline clears the same bytes.
func BenchmarkFill(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		s := NewSurface(w, h, XRGB8888)
		b.SetBytes(int64(len(s.pix)))
		c := color.RGBA{0x20, 0x40, 0x60, 0xff}
		vsBaseline(b, func() { s.FillRect(s.Bounds(), c) }, func() { clear(s.pix) })
	})
}

// BenchmarkFillRect fills a 3/4-width panel (row by row, not contiguous);
// the baseline clears the same rows.
func BenchmarkFillRect(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		s := NewSurface(w, h, XRGB8888)
		r := image.Rect(w/8, h/8, w*7/8, h*7/8)
		b.SetBytes(int64(r.Dx() * r.Dy() * 4))
		c := color.RGBA{0x20, 0x40, 0x60, 0xff}
		vsBaseline(b, func() { s.FillRect(r, c) }, func() {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				clear(s.row(y, r.Min.X, r.Max.X))
			}
		})
	})
}

// BenchmarkCopy scrolls a 3/4-width panel up by 16 rows (an overlapping
// copy); the baseline copy()s the same rows.
func BenchmarkCopy(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		s := NewSurface(w, h, XRGB8888)
		r := image.Rect(w/8, 0, w*7/8, h-16)
		b.SetBytes(int64(r.Dx() * r.Dy() * 4))
		vsBaseline(b, func() { s.CopyArea(r, image.Pt(r.Min.X, 16)) }, func() {
			for y := r.Min.Y; y < r.Max.Y; y++ {
				copy(s.row(y, r.Min.X, r.Max.X), s.row(y+16, r.Min.X, r.Max.X))
			}
		})
	})
}

// BenchmarkOpaqueBlit blits a full-screen opaque picture (a background);
// the baseline copy()s the same bytes.
func BenchmarkOpaqueBlit(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		s := NewSurface(w, h, XRGB8888)
		src := gradient(w, h, false)
		sp := NewSprite(src, XRGB8888)
		b.SetBytes(int64(len(s.pix)))
		vsBaseline(b, func() { s.Blit(s.Bounds(), sp, image.Point{}, draw.Over) },
			func() { copy(s.pix, src.Pix) })
	})
}

// BenchmarkAlphaBlit composites a logo (an anti-aliased disc with a
// gradient, transparent outside) at its real size, 1/3 of the screen
// height; the baseline is image/draw Over between *image.RGBA.
func BenchmarkAlphaBlit(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		benchAlpha(b, w, h, logo(h/3))
	})
}

// BenchmarkAlphaBlitTranslucent is the worst case: every pixel of the
// sprite is partly transparent, so none can be skipped or stored directly.
func BenchmarkAlphaBlitTranslucent(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		benchAlpha(b, w, h, gradient(h/3, h/3, true))
	})
}

func benchAlpha(b *testing.B, w, h int, src *image.RGBA) {
	s := NewSurface(w, h, XRGB8888)
	s.FillRect(s.Bounds(), color.RGBA{0x20, 0x40, 0x60, 0xff})
	ref := image.NewRGBA(image.Rect(0, 0, w, h))
	sp := NewSprite(src, XRGB8888)
	dr := src.Bounds().Add(image.Pt(w/2-src.Bounds().Dx()/2, h/3))
	b.SetBytes(int64(len(src.Pix)))
	vsBaseline(b, func() { s.Blit(dr, sp, image.Point{}, draw.Over) },
		func() { draw.Draw(ref, dr, src, image.Point{}, draw.Over) })
}

// BenchmarkTextLine draws one status line through a GlyphCache; the
// baseline is font.Drawer on an *image.RGBA (image/draw DrawMask with a
// uniform source), which rasterizes every glyph each time.
func BenchmarkTextLine(b *testing.B) { benchText(b, true) }

// BenchmarkTextLineUncached is BenchmarkTextLine without the glyph cache:
// both sides rasterize every glyph, so the ratio shows the blending alone.
func BenchmarkTextLineUncached(b *testing.B) { benchText(b, false) }

func benchText(b *testing.B, cache bool) {
	forSizes(b, func(b *testing.B, w, h int) {
		face := goRegular(b, float64(h)/30)
		defer face.Close()
		ours := face
		if cache {
			ours = NewGlyphCache(face, 0)
		}
		s := NewSurface(w, h, XRGB8888)
		ref := image.NewRGBA(image.Rect(0, 0, w, h))
		const line = "Starting Network Manager Script Dispatcher Service..."
		dot := image.Pt(w/10, h*5/6)
		c := color.RGBA{0xe0, 0xe0, 0xe0, 0xff}
		d := &font.Drawer{Dst: ref, Src: image.NewUniform(c), Face: face}
		vsBaseline(b, func() { s.DrawText(dot, ours, line, c) }, func() {
			d.Dot = fixed.P(dot.X, dot.Y)
			d.DrawString(line)
		})
	})
}

// scene is a splash frame: background, logo, a status line, a progress bar.
type scene struct {
	bg, logo *Sprite
	face     font.Face
	bar      image.Rectangle
	progress int
}

func newScene(tb testing.TB, w, h int) *scene {
	return &scene{
		bg:   NewSprite(gradient(w, h, false), XRGB8888),
		logo: NewSprite(logo(h/3), XRGB8888),
		face: NewGlyphCache(goRegular(tb, float64(h)/30), 0),
		bar:  image.Rect(w/4, h*3/4, w*3/4, h*3/4+h/60),
	}
}

// full draws the whole frame.
func (sc *scene) full(s *Surface) {
	w, h := s.Width(), s.Height()
	s.Blit(s.Bounds(), sc.bg, image.Point{}, draw.Src)
	lb := sc.logo.Bounds()
	s.Blit(lb.Add(image.Pt(w/2-lb.Dx()/2, h/4)), sc.logo, image.Point{}, draw.Over)
	s.BlendRect(sc.bar, color.RGBA{0x20, 0x20, 0x20, 0x80})
	s.DrawText(image.Pt(w/10, h*5/6), sc.face, "Starting Network Manager Script Dispatcher Service...", white)
}

// tick advances the progress bar by a step: one small fill.
func (sc *scene) tick(s *Surface) {
	step := max(sc.bar.Dx()/100, 1)
	x := sc.bar.Min.X + sc.progress%sc.bar.Dx()
	s.FillRect(image.Rect(x, sc.bar.Min.Y, x+step, sc.bar.Max.Y), white)
	sc.progress += step
}

// BenchmarkProgressTick reports a progress-bar update as a fraction of a
// full frame ("frame-fraction", target <= 0.02), both as whole frames on an
// emulated double-buffered display: bracket, drawing, damage, flush, flip.
func BenchmarkProgressTick(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		for _, st := range []access.Strategy{access.Cached, access.Shadow} {
			b.Run(st.String(), func(b *testing.B) {
				e := newEmu(b, w, h, XRGB8888, EmulatedOptions{FramebufferOptions: FramebufferOptions{Strategy: st}})
				sc := newScene(b, w, h)
				full := func(s *Surface) error { sc.full(s); return nil }
				tick := func(s *Surface) error { sc.tick(s); return nil }
				frame := func() {
					if err := e.Frame(full); err != nil {
						b.Fatal(err)
					}
				}
				speedup := vsBaseline(b, func() {
					if err := e.Frame(tick); err != nil {
						b.Fatal(err)
					}
				}, frame)
				b.ReportMetric(1/speedup, "frame-fraction")
			})
		}
	})
}

// BenchmarkFullFrame draws the whole splash frame on an emulated display
// (one bracket, then a flip); the baseline is the same drawing on a plain
// Surface, so the speedup shows what the frame machinery costs.
func BenchmarkFullFrame(b *testing.B) {
	forSizes(b, func(b *testing.B, w, h int) {
		e := newEmu(b, w, h, XRGB8888, EmulatedOptions{})
		s := NewSurface(w, h, XRGB8888)
		sc := newScene(b, w, h)
		full := func(s *Surface) error { sc.full(s); return nil }
		vsBaseline(b, func() {
			if err := e.Frame(full); err != nil {
				b.Fatal(err)
			}
		}, func() { sc.full(s) })
	})
}

// gradient makes a w x h picture; translucent gives every pixel an alpha
// between 0x20 and 0xe0.
func gradient(w, h int, translucent bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			a := uint8(0xff)
			if translucent {
				a = uint8(0x20 + (x+y)%0xc0)
			}
			c := color.NRGBA{uint8(x * 255 / max(w, 1)), uint8(y * 255 / max(h, 1)), 0x80, a}
			img.Set(x, y, c)
		}
	}
	return img
}

// logo makes a size x size anti-aliased disc with a colour gradient on a
// transparent background, the shape of a typical boot logo.
func logo(size int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	c := float64(size) / 2
	rad := c - 2
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			d := math.Hypot(float64(x)+0.5-c, float64(y)+0.5-c)
			cov := math.Max(0, math.Min(1, rad-d+0.5))
			// A ring of 70% opacity inside the disc, like a glow.
			if d < rad*0.6 && d > rad*0.5 {
				cov *= 0.7
			}
			img.Set(x, y, color.NRGBA{uint8(255 * x / size), 0x90, uint8(255 * y / size), uint8(cov * 255)})
		}
	}
	return img
}

// BenchmarkDraw puts the draw.Draw entries onto an 800x600 XRGB8888 surface
// next to the native operation doing the same work, measured in the same
// run: "x-native" is the entry's time over the native one (the target is
// 1.2 or less). draw.Draw is image/draw's own, which goes per pixel for a
// destination that is not one of its types (through SetRGBA64); fbemu.Draw
// is this package's, which dispatches to the native paths.
//
//   - fill: an opaque *image.Uniform, against FillRect;
//   - rgba: an opaque *image.RGBA picture, Over, against Blit of a Sprite
//     made from it once;
//   - nrgba-alpha: a translucent *image.NRGBA picture, Over, against Blit of
//     a Sprite made from it once (the entry premultiplies every time);
//   - surface: another XRGB8888 Surface, Src, against Blit of an opaque
//     Sprite (both are row copies).
func BenchmarkDraw(b *testing.B) {
	const w, h = 800, 600
	rgba := gradient(w, h, false)
	nrgba := image.NewNRGBA(rgba.Rect)
	draw.Draw(nrgba, nrgba.Rect, gradient(w, h, true), image.Point{}, draw.Src)
	other := NewSurface(w, h, XRGB8888)
	other.Blit(other.Bounds(), NewSprite(rgba, XRGB8888), image.Point{}, draw.Src)
	fillColor := color.RGBA{0x20, 0x40, 0x60, 0xff}
	cases := []struct {
		name   string
		src    image.Image
		op     draw.Op
		native func(s *Surface)
	}{
		{"fill", image.NewUniform(fillColor), draw.Over, func(s *Surface) { s.FillRect(s.Bounds(), fillColor) }},
		{"rgba", rgba, draw.Over, blitOnce(rgba, draw.Over)},
		{"nrgba-alpha", nrgba, draw.Over, blitOnce(nrgba, draw.Over)},
		{"surface", other, draw.Src, blitOnce(rgba, draw.Src)},
	}
	entries := []struct {
		name string
		draw func(dst draw.Image, r image.Rectangle, src image.Image, sp image.Point, op draw.Op)
	}{{"draw.Draw", draw.Draw}, {"fbemu.Draw", Draw}}
	for _, c := range cases {
		for _, e := range entries {
			b.Run(c.name+"/"+e.name, func(b *testing.B) {
				s := NewSurface(w, h, XRGB8888)
				s.SetDamage(NewDamage(s.Bounds()))
				ref := NewSurface(w, h, XRGB8888)
				ref.SetDamage(NewDamage(ref.Bounds()))
				b.SetBytes(int64(len(s.pix)))
				speedup := vsBaseline(b, func() {
					s.Damage().Reset()
					e.draw(s, s.Bounds(), c.src, image.Point{}, c.op)
				}, func() {
					ref.Damage().Reset()
					c.native(ref)
				})
				b.ReportMetric(1/speedup, "x-native")
			})
		}
	}
}

// blitOnce makes a Sprite of img once and returns the native Blit of it.
func blitOnce(img image.Image, op draw.Op) func(s *Surface) {
	sp := NewSprite(img, XRGB8888)
	return func(s *Surface) { s.Blit(s.Bounds(), sp, image.Point{}, op) }
}
