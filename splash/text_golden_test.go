package splash

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
	"github.com/bootsplash/bootsplash/text/locale"
)

// textGoldenTheme names the Debian fonts scripts/test installs, so the
// goldens do not depend on which other fonts a machine has.
const textGoldenTheme = `
[background]
color = "#101820"
[message]
size = 14
color = "#e0e6f0"
fonts = [
	"/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansDevanagari-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansThai-Regular.ttf",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
]
[prompt]
anchor = "top"
y = 0.04
size = 11
font = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"
fonts = [
	"/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
	"/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
]
`

// TestTextGolden draws a message per script, and a password prompt with
// the splash's own strings in Arabic (right to left), Chinese and
// English, through RenderFrame and compares every pixel with
// testdata/golden/text-*.png (looked at, then pinned; rerun with -update
// and look again when a change is meant).
func TestTextGolden(t *testing.T) {
	th, err := theme.Load(testutil.WriteTheme(t, textGoldenTheme, nil), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("prompt-ar-order", func(t *testing.T) { promptRightToLeft(t, th) })
	dir := t.TempDir()
	// A prompt with no text of its own: the locale's default.
	prompt := State{Prompt: Prompt{Active: true, Password: true, Bullets: 4, Retry: true, CapsLock: true}}
	for _, c := range []struct {
		name, msg string
		lang      string
		prompt    bool
	}{
		{"mixed", "Démarrage… 启动 مرحبا 🚀 Cafe\u0301", "", false},
		{"arabic", "جارٍ بدء تشغيل النظام (٣ من ١٠)", "", false},
		{"hebrew", "המערכת מתחילה, נא להמתין", "", false},
		{"devanagari", "सिस्टम शुरू हो रहा है", "", false},
		{"thai", "กำลังเริ่มระบบ โปรดรอสักครู่", "", false},
		{"cjk", "系统正在启动 システム起動中 시스템 시작", "", false},
		{"tofu", "missing: \U000F0000\U000F0001", "", false},
		{"prompt-ar", "", "ar_EG.UTF-8", true},
		{"prompt-zh", "", "zh_CN.UTF-8", true},
		{"prompt-en", "", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".png")
			opt := FrameOptions{Width: 480, Height: 96, Scale: 1.5, Theme: th, State: State{Message: c.msg}}
			if c.prompt {
				opt.Height, opt.State, opt.Lang = 240, prompt, c.lang
			}
			if err := RenderFrame(out, opt); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", "text-"+c.name+".png")
			if *update {
				data, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if n := testutil.DifferingPixels(readPNG(t, out), readPNG(t, golden)); n != 0 {
				t.Errorf("%d pixels differ from %s (rerun with -update and look at it if the change is meant)", n, golden)
			}
		})
	}
}

// promptRightToLeft: with an Arabic locale the prompt's default text is
// the Arabic catalogue's, laid out right to left: its first character at
// the right end, the colon that ends it at the left.
func promptRightToLeft(t *testing.T, th *theme.Theme) {
	r := NewRenderer(th, 1)
	r.SetLocale("ar_EG.UTF-8")
	s := fbemu.NewSurface(480, 200, fbemu.XRGB8888)
	if err := r.Paint(s, State{Prompt: Prompt{Active: true, Password: true}}); err != nil {
		t.Fatal(err)
	}
	pl := r.lay.prompt
	want := locale.For("ar").Get(locale.Password)
	if pl.promptText != want {
		t.Fatalf("prompt text %q, want the Arabic catalogue's %q", pl.promptText, want)
	}
	_, line, _, err := r.lineShaped(pl.textLine(promptLine{text: pl.promptText}))
	if err != nil || line == nil || len(line.Glyphs) < 2 {
		t.Fatalf("the Arabic prompt was not shaped: %v, %v", line, err)
	}
	n := len([]rune(want))
	if first, last := line.Glyphs[0].Cluster, line.Glyphs[len(line.Glyphs)-1].Cluster; first != n-1 || last != 0 {
		t.Errorf("leftmost glyph of character %d, rightmost of %d; want %d and 0 (right to left)", first, last, n-1)
	}
	for _, g := range line.Glyphs {
		if g.ID == 0 {
			t.Errorf("a glyph the prompt's fonts lack: %+v", g)
		}
	}
}
