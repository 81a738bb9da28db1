package text

import (
	"image"
	"image/color"
	"testing"
	"time"

	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	"github.com/bootsplash/bootsplash/fbemu"
)

// benchLines are 60-character lines in the scripts the issue names.
var benchLines = []struct{ name, text string }{
	{"latin", "Checking file systems on /dev/mmcblk0p2, this takes a while."},
	{"arabic", "جارٍ فحص أنظمة الملفات على القرص، قد يستغرق ذلك بعض الوقت الآن"},
	{"cjk", "正在检查磁盘上的文件系统，这可能需要一些时间，请稍候。系统正在启动中，请不要关闭电源。正在加载内核模块和驱动程序"},
	{"devanagari", "डिस्क पर फ़ाइल सिस्टम की जाँच हो रही है, इसमें कुछ समय लग सकता है"},
}

// BenchmarkLine draws a line of each script, laid out once (cached) and
// laid out every time (uncached; glyph masks stay cached in both), in ns
// per line, against the splash's Latin path of today drawn in the same
// run: fbemu's DrawText of the Latin line with the embedded font behind
// a glyph cache. "x-latin-fast" is how many of those one line costs.
func BenchmarkLine(b *testing.B) {
	const px = 16
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		b.Fatal(err)
	}
	xf, err := opentype.NewFace(f, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: xfont.HintingFull})
	if err != nil {
		b.Fatal(err)
	}
	face := fbemu.NewGlyphCache(xf, 0)
	surf := fbemu.NewSurface(1920, 64, fbemu.XRGB8888)
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	base := func() { surf.DrawText(image.Pt(4, 40), face, benchLines[0].text, white) }
	base()
	s := newShaper(b, px)
	for _, l := range benchLines {
		for _, cached := range []bool{true, false} {
			name := l.name + "/cached"
			if !cached {
				name = l.name + "/uncached"
			}
			b.Run(name, func(b *testing.B) {
				draw := func() {
					var ls []Line
					if cached {
						ls = s.Layout(l.text, Options{})
					} else {
						ls = s.layout(l.text, Options{})
					}
					s.Draw(surf, ls[0], image.Pt(4, 40), white)
				}
				draw()
				versus(b, "x-latin-fast", draw, base)
			})
		}
	}
}

// versus times ours with the benchmark timer and base as often, untimed,
// in alternating rounds so both see the same load, and reports ours over
// base as metric.
func versus(b *testing.B, metric string, ours, base func()) {
	b.StopTimer()
	b.ResetTimer()
	const rounds = 4
	var baseTime time.Duration
	done := 0
	for r := 0; r < rounds; r++ {
		n := (b.N*(r+1))/rounds - done
		start := time.Now()
		for i := 0; i < n; i++ {
			base()
		}
		baseTime += time.Since(start)
		b.StartTimer()
		for i := 0; i < n; i++ {
			ours()
		}
		b.StopTimer()
		done += n
	}
	b.ReportMetric(float64(b.Elapsed())/float64(baseTime), metric)
}
