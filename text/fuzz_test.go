package text

import (
	"encoding/binary"
	"image"
	"image/color"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bootsplash/bootsplash/fbemu"
)

// FuzzLayout lays out and draws random Unicode, from every plane (the
// input's bytes read as code points, as well as read as UTF-8), at
// random widths and line limits: no panic, no line over the width when
// it can be kept, and bounded time.
func FuzzLayout(f *testing.F) {
	f.Add([]byte("Démarrage… 启动 مرحبا 🚀"), uint16(200), uint8(2))
	f.Add([]byte("e\u0301\u0301\u0301 \u202eabc\u202c \u2067שלום\u2069 x"), uint16(10), uint8(0))
	f.Add([]byte("\x00\x00\x0f\x00\xff\xff\x10\x00\x00\xd8\x00\x00"), uint16(1), uint8(1))
	f.Add([]byte("กำลังตรวจสอบระบบ\nनमस्ते\r\n\u2028"), uint16(0), uint8(3))
	s := newShaper(f, 16)
	surf := fbemu.NewSurface(320, 64, fbemu.XRGB8888)
	f.Fuzz(func(t *testing.T, data []byte, width uint16, maxLines uint8) {
		var text []rune
		if utf8.Valid(data) {
			text = []rune(string(data))
		} else {
			for len(data) >= 4 && len(text) < 256 {
				text = append(text, rune(binary.LittleEndian.Uint32(data)%0x110000))
				data = data[4:]
			}
		}
		if len(text) > 256 {
			text = text[:256]
		}
		start := time.Now()
		opt := Options{MaxWidth: int(width % 2048), MaxLines: int(maxLines % 8)}
		ls := s.Layout(string(text), opt)
		if opt.MaxLines > 0 && len(ls) > opt.MaxLines {
			t.Fatalf("%d lines, over MaxLines %d", len(ls), opt.MaxLines)
		}
		for _, l := range ls {
			s.Draw(surf, l, image.Pt(0, 40), color.RGBA{0xff, 0xff, 0xff, 0xff})
			s.Ink(l, image.Pt(-100, 1<<20))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%d runes took %v", len(text), d)
		}
	})
}
