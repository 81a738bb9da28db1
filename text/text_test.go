package text

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
)

// The system's fonts are scanned once for all tests, into a cache
// directory of the test run.
var (
	sysOnce sync.Once
	sysDir  string
	sys     *SystemFonts
)

func testSystemFonts(t testing.TB) *SystemFonts {
	sysOnce.Do(func() {
		d, err := os.MkdirTemp("", "bootsplash-fontindex")
		if err != nil {
			t.Fatal(err)
		}
		sysDir = d
		sys = NewSystemFonts(d)
	})
	return sys
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sysDir != "" {
		os.RemoveAll(sysDir)
	}
	os.Exit(code)
}

func newShaper(t testing.TB, px float64) *Shaper {
	f, err := NewFonts(nil, testSystemFonts(t))
	if err != nil {
		t.Fatal(err)
	}
	return NewShaper(f, px, "en")
}

// render draws text centred on a w x h surface and returns it as RGBA.
func render(t testing.TB, s *Shaper, text string, w, h int, opt Options) *image.RGBA {
	surf := fbemu.NewSurface(w, h, fbemu.XRGB8888)
	surf.FillRect(surf.Bounds(), color.RGBA{0, 0, 0, 0xff})
	asc, desc := s.Metrics()
	lh := (asc + desc).Ceil()
	lines := s.Layout(text, opt)
	y := (h - lh*len(lines)) / 2
	for _, l := range lines {
		x := (w - l.Width.Ceil()) / 2
		s.Draw(surf, l, image.Pt(x, y+asc.Ceil()), color.RGBA{0xff, 0xff, 0xff, 0xff})
		y += lh
	}
	img := image.NewRGBA(surf.Bounds())
	for yy := 0; yy < h; yy++ {
		for xx := 0; xx < w; xx++ {
			img.Set(xx, yy, surf.At(xx, yy))
		}
	}
	if d := os.Getenv("BOOTSPLASH_TEXT_PNG"); d != "" {
		f, err := os.Create(filepath.Join(d, t.Name()+".png"))
		if err == nil {
			png.Encode(f, img)
			f.Close()
		}
	}
	return img
}

func TestLook(t *testing.T) {
	s := newShaper(t, 24)
	render(t, s, "Démarrage… 启动 مرحبا 🚀 e\u0301 नमस्ते ภาษาไทย \U000F0000", 900, 60, Options{})
}

// inkColumns returns the leftmost and rightmost lit columns of img, and
// how many pixels are lit.
func inkColumns(img *image.RGBA) (lo, hi, n int) {
	lo, hi = img.Bounds().Dx(), -1
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			if img.RGBAAt(x, y).G > 0x40 {
				lo, hi, n = min(lo, x), max(hi, x), n+1
			}
		}
	}
	return lo, hi, n
}

// TestEveryScriptHasGlyphs: each script of the corpus is shaped with a
// font that has it (a glyph id other than .notdef for every glyph), from
// the system's fonts the test script installs.
func TestEveryScriptHasGlyphs(t *testing.T) {
	s := newShaper(t, 20)
	for _, c := range corpus {
		ls := s.Layout(c.text, Options{})
		if len(ls) != 1 {
			t.Errorf("%s: %d lines, want 1", c.name, len(ls))
			continue
		}
		for _, g := range ls[0].Glyphs {
			if g.ID == 0 {
				t.Errorf("%s %q: a .notdef glyph at cluster %d (no font has it; install the fonts scripts/test installs)", c.name, c.text, g.Cluster)
				break
			}
		}
	}
}

// corpus is a line in each script the splash is expected to draw.
var corpus = []struct{ name, text string }{
	{"latin-marks", "Cafe\u0301 na\u0308ive"},
	{"greek", "Εκκίνηση συστήματος"},
	{"cyrillic", "Загрузка системы"},
	{"arabic", "جارٍ بدء تشغيل النظام"},
	{"hebrew", "מערכת מתחילה"},
	{"devanagari", "सिस्टम शुरू हो रहा है"},
	{"bengali", "সিস্টেম চালু হচ্ছে"},
	{"thai", "กำลังเริ่มระบบ"},
	{"chinese", "系统正在启动"},
	{"japanese", "システムを起動しています"},
	{"korean", "시스템을 시작하는 중"},
	{"emoji", "🚀🔒"},
}

// TestCombiningMarkKept: e and U+0301 are drawn as é: the same ink as
// the composed character, not an e and a gap.
func TestCombiningMarkKept(t *testing.T) {
	s := newShaper(t, 32)
	a := render(t, s, "e\u0301", 80, 60, Options{})
	b := render(t, s, "é", 80, 60, Options{})
	al, ah, an := inkColumns(a)
	bl, bh, bn := inkColumns(b)
	if an == 0 || al != bl || ah != bh || an != bn {
		t.Errorf("e+U+0301 inks columns %d..%d (%d px), é %d..%d (%d px)", al, ah, an, bl, bh, bn)
	}
	// A mark no font composes with its base stays in its cluster.
	ls := s.Layout("q\u0307", Options{})
	if len(ls) != 1 || len(ls[0].Glyphs) == 0 {
		t.Fatalf("q+U+0307: %v", ls)
	}
	for _, g := range ls[0].Glyphs {
		if g.Cluster != 0 {
			t.Errorf("q+U+0307: glyph %d in cluster %d, want the base's cluster 0", g.ID, g.Cluster)
		}
	}
}

// TestBidiVisualOrder: in a left-to-right line, an Arabic word's glyphs
// are laid out right to left (its first letter rightmost) after the
// Latin word that precedes it, and a right-to-left paragraph puts its
// first word on the right.
func TestBidiVisualOrder(t *testing.T) {
	s := newShaper(t, 20)
	text := "abc مرحبا xyz"
	l := s.Layout(text, Options{})[0]
	var clusters []int
	for _, g := range l.Glyphs {
		clusters = append(clusters, g.Cluster)
	}
	// a b c space, then the Arabic word from its last letter, then " xyz".
	if clusters[0] != 0 || clusters[1] != 1 || clusters[2] != 2 {
		t.Fatalf("clusters %v: the Latin word does not come first", clusters)
	}
	i := 4
	for ; i < len(clusters) && clusters[i] != 8; i++ { // the last Arabic letter
	}
	if i != 4 {
		t.Errorf("clusters %v: the Arabic word does not start (on the left) with its last letter", clusters)
	}
	if got := clusters[len(clusters)-1]; got != len([]rune(text))-1 {
		t.Errorf("clusters %v: the line does not end with the last Latin letter", clusters)
	}
	if Direction([]rune("مرحبا abc")) != Direction([]rune("שלום")) || Direction([]rune("abc مرحبا")) == Direction([]rune("שלום")) {
		t.Error("paragraph direction is not that of the first strong character")
	}
	rl := s.Layout("مرحبا abc", Options{})[0]
	if last := rl.Glyphs[len(rl.Glyphs)-1]; last.Cluster != 0 {
		t.Errorf("right-to-left paragraph: rightmost glyph is cluster %d, want 0", last.Cluster)
	}
}

// TestTofu: a character no font has is drawn as a visible box.
func TestTofu(t *testing.T) {
	s := newShaper(t, 24)
	img := render(t, s, "\U000F0000", 60, 40, Options{})
	lo, hi, n := inkColumns(img)
	if n < 20 || hi-lo < 5 {
		t.Errorf("U+F0000 drew %d pixels over columns %d..%d, want a box", n, lo, hi)
	}
}

// TestCentredOnAdvance: a line's width is its shaped advance, so a line
// centred on it has equal margins.
func TestCentredOnAdvance(t *testing.T) {
	s := newShaper(t, 24)
	img := render(t, s, "Démarrage… 启动 مرحبا", 600, 60, Options{})
	lo, hi, _ := inkColumns(img)
	left, right := lo, 600-1-hi
	if d := left - right; d < -3 || d > 3 {
		t.Errorf("margins %d and %d, want equal within 3 px", left, right)
	}
}

// TestScanWithoutWritableCache: a cache directory that cannot be made
// (a read-only root in an initramfs) still finds the system's fonts.
func TestScanWithoutWritableCache(t *testing.T) {
	n, err := NewSystemFonts("/proc/bootsplash-cannot-be-made").Scan()
	if err != nil || n == 0 {
		t.Fatalf("Scan with an unwritable cache directory: %d fonts, %v", n, err)
	}
}
