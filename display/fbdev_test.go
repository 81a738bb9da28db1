package display

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
)

// efifb is what efifb reports for OVMF's 1280x800 GOP mode (BGRX, one
// screen: no panning).
func efifb() fbGeometry {
	return fbGeometry{ID: "EFI VGA", XRes: 1280, YRes: 800, XResVirtual: 1280, YResVirtual: 800, BitsPerPixel: 32,
		Red: fbemu.Bitfield{Offset: 16, Length: 8}, Green: fbemu.Bitfield{Offset: 8, Length: 8}, Blue: fbemu.Bitfield{Offset: 0, Length: 8},
		Transp: fbemu.Bitfield{Offset: 24, Length: 8}, SmemLen: 4096000, LineLength: 5120, Visual: fbVisualTrueColor}
}

func TestFbdevFormat(t *testing.T) {
	bf := func(o, l int) fbemu.Bitfield { return fbemu.Bitfield{Offset: o, Length: l} }
	for _, c := range []struct {
		name string
		edit func(*fbGeometry)
		want fbemu.Format
		err  string
	}{
		{"efifb XRGB with a reserved byte", func(*fbGeometry) {}, fbemu.XRGB8888, ""},
		{"no alpha", func(g *fbGeometry) { g.Transp = fbemu.Bitfield{} }, fbemu.XRGB8888, ""},
		{"RGB565 (fbtft)", func(g *fbGeometry) {
			g.BitsPerPixel, g.Red, g.Green, g.Blue, g.Transp = 16, bf(11, 5), bf(5, 6), bf(0, 5), bf(0, 0)
		}, fbemu.RGB565, ""},
		{"blue first", func(g *fbGeometry) { g.Red, g.Blue = bf(0, 8), bf(16, 8) }, 0, "only XRGB8888"},
		{"24 bits", func(g *fbGeometry) { g.BitsPerPixel = 24 }, 0, "24bpp r16:8 g8:8 b0:8"},
		{"palette", func(g *fbGeometry) { g.BitsPerPixel, g.Visual = 8, 3 }, 0, "visual 3 is not true colour"},
		{"planes", func(g *fbGeometry) { g.Type = 1 }, 0, "type 1 is not packed pixels"},
		{"grayscale", func(g *fbGeometry) { g.Grayscale = 1 }, 0, "grayscale"},
		{"non-standard", func(g *fbGeometry) { g.Nonstd = 1 }, 0, "non-standard pixel format 1"},
		{"msb right", func(g *fbGeometry) { g.MSBRight = true }, 0, "most significant bit on the right"},
		{"alpha inside", func(g *fbGeometry) { g.Transp = bf(0, 8) }, 0, "alpha bits inside the colour"},
	} {
		g := efifb()
		c.edit(&g)
		f, err := g.format()
		if c.err == "" {
			if err != nil || f != c.want {
				t.Errorf("%s: format = %v, %v; want %v", c.name, f, err, c.want)
			}
			continue
		}
		if !errors.Is(err, ErrFbdevFormat) || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: format: %v, want ErrFbdevFormat saying %q", c.name, err, c.err)
		}
	}
}

func TestFbdevPlan(t *testing.T) {
	const page = 4096
	vesa := efifb() // vesafb with ypan: two screens of 1024x768
	vesa.XRes, vesa.YRes, vesa.XResVirtual, vesa.YResVirtual, vesa.LineLength, vesa.SmemLen, vesa.YPanStep = 1024, 768, 1024, 1536, 4096, 16<<20, 1
	for _, c := range []struct {
		name    string
		geo     func() fbGeometry
		buffers int
		want    int    // buffers planned
		single  string // why one
		err     string
	}{
		{"efifb single", efifb, 1, 1, "", ""},
		{"efifb asked for two", efifb, 2, 1, "virtual height 800 holds one screen", ""},
		{"vesafb ypan", func() fbGeometry { return vesa }, 2, 2, "", ""},
		{"no pan step", func() fbGeometry { g := vesa; g.YPanStep = 0; return g }, 2, 1, "does not pan", ""},
		{"memory for one", func() fbGeometry { g := vesa; g.SmemLen = 4096 * 1000; return g }, 2, 1, "hold one screen", ""},
		{"second screen off a page", func() fbGeometry {
			g := vesa
			g.XRes, g.YRes, g.YResVirtual, g.LineLength = 800, 600, 1200, 3200
			return g
		}, 2, 1, "not on a page", ""},
		{"zero memory", func() fbGeometry { g := efifb(); g.SmemLen = 0; return g }, 1, 0, "", "no framebuffer memory (smem_len 0)"},
		{"too little memory", func() fbGeometry { g := efifb(); g.SmemLen = 5120 * 799; return g }, 1, 0, "", "too little for 800 lines of 5120 bytes"},
		{"enormous size", func() fbGeometry { g := efifb(); g.XRes, g.YRes = 1<<20, 1<<20; return g }, 1, 0, "", "each side must be 1 to 16384"},
		{"zero size", func() fbGeometry { g := efifb(); g.XRes = 0; return g }, 1, 0, "", "visible size 0x800"},
		{"short lines", func() fbGeometry { g := efifb(); g.LineLength = 4000; return g }, 1, 0, "", "line length 4000 bytes does not fit 1280 pixels"},
		{"enormous lines", func() fbGeometry { g := efifb(); g.LineLength = 1 << 30; g.SmemLen = math.MaxInt32; return g }, 1, 0, "", "line length 1073741824"},
		{"lines times height past 32 bits", func() fbGeometry {
			g := efifb()
			g.YRes, g.LineLength, g.SmemLen = 16384, 8*16384*4, math.MaxInt32
			return g
		}, 1, 0, "", "too little for 16384 lines of 524288 bytes"},
		{"bad format first", func() fbGeometry { g := efifb(); g.BitsPerPixel = 8; g.SmemLen = 0; return g }, 1, 0, "", "pixel layout not drawable"},
	} {
		p, err := c.geo().plan(c.buffers, page)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: plan: %v, want an error saying %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || p.Buffers != c.want || !strings.Contains(p.Single, c.single) || (c.single == "") != (p.Single == "") {
			t.Errorf("%s: plan = %+v, %v; want %d buffers (%q)", c.name, p, err, c.want, c.single)
		}
	}
}
