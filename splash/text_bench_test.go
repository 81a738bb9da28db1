package splash

import (
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// BenchmarkFirstFrameMessage paints the first frame of a new renderer of the
// default theme at 1280x720: with a Latin message (today's path), and
// with a message in Chinese, Arabic and an emoji (the shaper, parsing
// the fallback fonts it needs; the system's font index is already
// scanned, as it is after the first boot). "x-latin" is how many Latin
// first frames it costs, measured in the same run. This is the cost of
// the frame after the first on a display: DisplayScreen leaves such text
// out of a head's first frame (BenchmarkTimeToFirstFrame).
func BenchmarkFirstFrameMessage(b *testing.B) {
	th, err := theme.Default()
	if err != nil {
		b.Fatal(err)
	}
	s := fbemu.NewSurface(1280, 720, fbemu.XRGB8888)
	frame := func(msg string) func() {
		return func() {
			if err := NewRenderer(th, 1).Paint(s, State{Progress: 0.1, Message: msg}); err != nil {
				b.Fatal(err)
			}
		}
	}
	latin := frame("Checking file systems…")
	for _, c := range []struct{ name, msg string }{
		{"latin", "Checking file systems…"},
		{"none", ""},
		{"cjk-arabic-emoji", "启动 مرحبا 🚀"},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := frame(c.msg)
			f()
			versus(b, "x-latin", f, latin)
		})
	}
}
