package splash

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text"
)

// messageInk returns the columns and the pixel count where painting st
// differs from painting it without its message.
func messageInk(t *testing.T, w, h int, st State) (lo, hi, n int) {
	t.Helper()
	th := defaultTheme(t)
	bare := st
	bare.Message = ""
	a, b := paintOn(t, th, w, h, st), paintOn(t, th, w, h, bare)
	lo, hi = w, -1
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if a.RGBAAt(x, y) != b.RGBAAt(x, y) {
				lo, hi, n = min(lo, x), max(hi, x), n+1
			}
		}
	}
	return lo, hi, n
}

// TestMessageEveryScript: a message in Chinese, Arabic or an emoji is
// drawn (it used to be invisible), and a mixed message is centred on
// its shaped advance.
func TestMessageEveryScript(t *testing.T) {
	const w, h = 1024, 768
	for _, msg := range []string{"启动", "مرحبا", "🚀", "नमस्ते", "\U000F0000"} {
		if _, _, n := messageInk(t, w, h, State{Message: msg}); n < 20 {
			t.Errorf("message %q drew %d pixels", msg, n)
		}
	}
	lo, hi, _ := messageInk(t, w, h, State{Message: "Démarrage… 启动 مرحبا 🚀"})
	if d := lo - (w - 1 - hi); d < -3 || d > 3 {
		t.Errorf("mixed message inks columns %d..%d: margins differ by %d px", lo, hi, d)
	}
}

// TestDecomposedAccent: e followed by U+0301 draws what é draws.
func TestDecomposedAccent(t *testing.T) {
	th := defaultTheme(t)
	a := paintOn(t, th, 640, 480, State{Message: "Cafe\u0301 ouvert"})
	b := paintOn(t, th, 640, 480, State{Message: "Café ouvert"})
	if n := surfacesDiffer(a, b); n != 0 {
		t.Errorf("Cafe+U+0301 differs from Café in %d pixels", n)
	}
}

// TestUpdateEqualsPaintShaped: going to and from shaped messages repaints
// exactly what Paint draws.
func TestUpdateEqualsPaintShaped(t *testing.T) {
	th := defaultTheme(t)
	states := []State{
		{Progress: 0.2, Message: "Starting", Status: "ok"},
		{Progress: 0.3, Message: "启动 مرحبا 🚀", Status: "ok"},
		{Progress: 0.4, Message: "Загрузка системы", Status: "שלום"},
		{Progress: 0.5, Message: "Starting", Status: "ok"},
	}
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(800, 480, fbemu.XRGB8888)
	if err := r.Paint(s, states[0]); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(states); i++ {
		if err := r.Update(s, states[i-1], states[i]); err != nil {
			t.Fatal(err)
		}
		want := paintOn(t, th, 800, 480, states[i])
		if n := surfacesDiffer(s, want); n != 0 {
			t.Errorf("update %d (%q): %d pixels differ from Paint", i, states[i].Message, n)
		}
	}
}

// TestSimpleTextStaysFast: Latin text in the embedded font takes the
// x/image path, other text the shaper.
func TestSimpleTextStaysFast(t *testing.T) {
	r := NewRenderer(defaultTheme(t), 1)
	l, err := r.newLayout(640, 480, fbemu.XRGB8888)
	if err != nil {
		t.Fatal(err)
	}
	face, err := r.lineFace(l.message)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s      string
		simple bool
	}{
		{"Checking file systems… 100%", true},
		{"Ελληνικά Кириллица", true},
		{"Cafe\u0301", false},
		{"启动", false},
		{"abc مرحبا", false},
		{"🚀", false},
	} {
		if got := simpleText(face, c.s); got != c.simple {
			t.Errorf("simpleText(%q) = %v, want %v", c.s, got, c.simple)
		}
	}
}

// TestLatinFrameScansNoFonts: a frame with Latin text in the embedded
// font neither scans the system's fonts nor makes a shaper; the first
// non-Latin message does.
func TestLatinFrameScansNoFonts(t *testing.T) {
	r := NewRenderer(defaultTheme(t), 1)
	s := fbemu.NewSurface(640, 480, fbemu.XRGB8888)
	if err := r.Paint(s, State{Progress: 0.1, Message: "Checking file systems…", Status: "clean"}); err != nil {
		t.Fatal(err)
	}
	if r.sysFonts != nil || len(r.shapers) != 0 {
		t.Fatalf("a Latin frame made %d shapers (system fonts: %v)", len(r.shapers), r.sysFonts != nil)
	}
	if err := r.Update(s, State{Progress: 0.1, Message: "Checking file systems…", Status: "clean"}, State{Message: "启动"}); err != nil {
		t.Fatal(err)
	}
	if r.sysFonts == nil || len(r.shapers) == 0 {
		t.Fatal("a Chinese message was drawn without the shaper")
	}
}

// TestThemeFontList: the theme's fallback fonts come before the system's:
// a message in a script only the listed font has is drawn with it, and a
// listed font that is missing is an error naming the key.
func TestThemeFontList(t *testing.T) {
	if _, err := theme.Load(testutil.WriteTheme(t, "[message]\nfonts = [\"missing.ttf\"]\n", nil), theme.Options{}); err == nil || !strings.Contains(err.Error(), "message.fonts") {
		t.Fatalf("a missing font in message.fonts: %v", err)
	}
	data, err := os.ReadFile("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf")
	if err != nil {
		t.Fatalf("the Noto Arabic font scripts/test installs: %v", err)
	}
	path := testutil.WriteTheme(t, "[message]\nfonts = [\"arabic.ttf\"]\n", map[string][]byte{"arabic.ttf": data})
	th, err := theme.Load(path, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(640, 480, fbemu.XRGB8888)
	if err := r.Paint(s, State{Message: "مرحبا"}); err != nil {
		t.Fatal(err)
	}
	for _, sh := range r.shapers {
		ls := sh.Layout("مرحبا", text.Options{})
		if len(ls) != 1 || ls[0].Glyphs[0].Face == sh.Fonts().Primary() {
			t.Fatalf("the Arabic message was not shaped with the theme's listed font")
		}
		if n := sh.Fonts().Len(); n != 2 {
			t.Errorf("the chain has %d theme fonts, want font and fonts' one", n)
		}
	}
}

// TestDrawLine: the helpers for other elements' text draw Latin text as
// DrawText does and shaped text where lineInk says.
func TestDrawLine(t *testing.T) {
	r := NewRenderer(defaultTheme(t), 1)
	face, err := r.face("", 20)
	if err != nil {
		t.Fatal(err)
	}
	a := fbemu.NewSurface(320, 60, fbemu.XRGB8888)
	b := fbemu.NewSurface(320, 60, fbemu.XRGB8888)
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	if err := r.drawLine(a, textLine{Px: 20, Face: face, Text: "Password:"}, image.Pt(10, 40), white); err != nil {
		t.Fatal(err)
	}
	b.DrawText(image.Pt(10, 40), face, "Password:", white)
	if n := surfacesDiffer(a, b); n != 0 {
		t.Errorf("Latin drawLine differs from DrawText in %d pixels", n)
	}
	c := fbemu.NewSurface(320, 60, fbemu.XRGB8888)
	ln := textLine{Px: 20, Face: face, Text: "密码 كلمة"}
	if err := r.drawLine(c, ln, image.Pt(10, 40), white); err != nil {
		t.Fatal(err)
	}
	ink, err := r.lineInk(ln, image.Pt(10, 40))
	if err != nil {
		t.Fatal(err)
	}
	adv, _ := r.lineAdvance(ln)
	lit := 0
	for y := 0; y < 60; y++ {
		for x := 0; x < 320; x++ {
			if c.RGBAAt(x, y).G != 0 {
				lit++
				if !image.Pt(x, y).In(ink) {
					t.Fatalf("pixel %d,%d lit outside the ink %v", x, y, ink)
				}
			}
		}
	}
	if lit < 50 || adv.Ceil() < ink.Dx()-2 {
		t.Errorf("shaped line lit %d pixels, advance %d for ink %v", lit, adv.Ceil(), ink)
	}
}

// TestMessageWraps: with max_lines, a message too long for the screen
// wraps onto up to that many lines inside the margins, in Latin and in
// Chinese (no spaces), the status under it stays where it is, and
// Update repaints exactly what Paint draws.
func TestMessageWraps(t *testing.T) {
	path := testutil.WriteTheme(t, "[message]\nmax_lines = 3\nsize = 12\n[status]\nbelow = \"message\"\nsize = 10\n", nil)
	th, err := theme.Load(path, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const w, h = 480, 272
	long := strings.Repeat("A start job is running for the root file system. ", 6)
	cjk := strings.Repeat("正在检查磁盘上的文件系统这可能需要一些时间", 4)
	rows := func(s *fbemu.Surface, bare *fbemu.Surface) (lo, hi, left, right int) {
		lo, hi, left, right = h, -1, w, -1
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if s.RGBAAt(x, y) != bare.RGBAAt(x, y) {
					lo, hi, left, right = min(lo, y), max(hi, y), min(left, x), max(right, x)
				}
			}
		}
		return
	}
	bare := paintOn(t, th, w, h, State{})
	status := paintOn(t, th, w, h, State{Status: "ok"})
	slo, _, _, _ := rows(status, bare)
	for _, msg := range []string{long, cjk} {
		s := paintOn(t, th, w, h, State{Message: msg})
		lo, hi, left, right := rows(s, bare)
		margin := max(8, w*3/100)
		if hi-lo < 30 {
			t.Errorf("%.20q...: ink rows %d..%d, want several lines", msg, lo, hi)
		}
		if left < margin-1 || right > w-margin {
			t.Errorf("%.20q...: ink columns %d..%d, outside the margins of %d", msg, left, right, margin)
		}
		if hi >= slo {
			t.Errorf("%.20q...: the message reaches row %d, into the status at %d", msg, hi, slo)
		}
		both := paintOn(t, th, w, h, State{Message: msg, Status: "ok"})
		if surfacesDiffer(both, s) == 0 {
			t.Errorf("the status is not drawn with a long message")
		}
	}
	// The status does not move with the message's length.
	a := paintOn(t, th, w, h, State{Message: "short", Status: "ok"})
	b := paintOn(t, th, w, h, State{Message: long, Status: "ok"})
	as, bs := paintOn(t, th, w, h, State{Message: "short"}), paintOn(t, th, w, h, State{Message: long})
	alo, _, _, _ := rows(a, as)
	blo, _, _, _ := rows(b, bs)
	if alo != blo || alo != slo {
		t.Errorf("the status starts at row %d under a short message, %d under a long one, %d alone", alo, blo, slo)
	}
	r := NewRenderer(th, 1)
	s := fbemu.NewSurface(w, h, fbemu.XRGB8888)
	states := []State{{Message: "short"}, {Message: long}, {Message: cjk, Status: "x"}, {Message: "short"}}
	if err := r.Paint(s, states[0]); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(states); i++ {
		if err := r.Update(s, states[i-1], states[i]); err != nil {
			t.Fatal(err)
		}
		if n := surfacesDiffer(s, paintOn(t, th, w, h, states[i])); n != 0 {
			t.Errorf("update %d: %d pixels differ from Paint", i, n)
		}
	}
	if testing.Verbose() {
		RenderFrame(filepath.Join(os.TempDir(), "bootsplash-wrap.png"), FrameOptions{Width: w, Height: h, Theme: th, State: State{Message: cjk + long, Status: "ok"}})
	}
}
