package splash

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
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
`

// TestTextGolden draws a message per script through RenderFrame and
// compares every pixel with testdata/golden/text-*.png (looked at, then
// pinned; rerun with -update and look again when a change is meant).
func TestTextGolden(t *testing.T) {
	th, err := theme.Load(testutil.WriteTheme(t, textGoldenTheme, nil), theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, c := range []struct{ name, msg string }{
		{"mixed", "Démarrage… 启动 مرحبا 🚀 Cafe\u0301"},
		{"arabic", "جارٍ بدء تشغيل النظام (٣ من ١٠)"},
		{"hebrew", "המערכת מתחילה, נא להמתין"},
		{"devanagari", "सिस्टम शुरू हो रहा है"},
		{"thai", "กำลังเริ่มระบบ โปรดรอสักครู่"},
		{"cjk", "系统正在启动 システム起動中 시스템 시작"},
		{"tofu", "missing: \U000F0000\U000F0001"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, c.name+".png")
			if err := RenderFrame(out, FrameOptions{Width: 480, Height: 96, Scale: 1.5, Theme: th, State: State{Message: c.msg}}); err != nil {
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
