package display

import (
	"errors"
	"fmt"

	"github.com/bootsplash/bootsplash/fbemu"
)

// FbdevPath is the firmware framebuffer Open takes when no DRM card
// exists: efifb, vesafb and simplefb register as fb0, and so do
// fbdev-only panel drivers (fbtft).
const FbdevPath = "/dev/fb0"

// ErrFbdevFormat marks a framebuffer whose pixel layout the backend cannot
// draw (a palette, 24 bits per pixel, blue first, planes).
var ErrFbdevFormat = errors.New("pixel layout not drawable")

// fbGeometry is what fbdev says of a framebuffer (fb_var_screeninfo and
// fb_fix_screeninfo), the parts the backend reads.
type fbGeometry struct {
	ID                       string
	XRes, YRes               int
	XResVirtual, YResVirtual int
	XOffset, YOffset         int
	BitsPerPixel             int
	Grayscale                int
	Nonstd                   int
	Red, Green, Blue, Transp fbemu.Bitfield
	// MSBRight is set when a channel's most significant bit is on the
	// right (no hardware the backend knows does this).
	MSBRight bool
	// WidthMM and HeightMM are the panel's size; 0 where fbdev says -1.
	WidthMM, HeightMM int
	SmemLen           int
	LineLength        int
	Type, Visual      int
	YPanStep          int
}

// fbdev's type and visual values (<linux/fb.h>), kept here so the
// geometry can be checked on every platform.
const (
	fbTypePackedPixels = 0
	fbVisualTrueColor  = 2
)

// String describes the layout as the errors and the log say it:
// "1024x768 32bpp r16:8 g8:8 b0:8 a24:8, 4096 bytes a line".
func (g fbGeometry) String() string {
	bf := func(n string, b fbemu.Bitfield) string { return fmt.Sprintf("%s%d:%d", n, b.Offset, b.Length) }
	return fmt.Sprintf("%dx%d %dbpp %s %s %s %s, %d bytes a line", g.XRes, g.YRes, g.BitsPerPixel,
		bf("r", g.Red), bf("g", g.Green), bf("b", g.Blue), bf("a", g.Transp), g.LineLength)
}

// format maps the layout to the format frames are drawn in: 32 bits
// with red, green and blue at 16, 8 and 0 is XRGB8888 (whatever the top
// byte is: the firmware's "reserved" byte is not scanned out), 16 bits
// at 11, 5 and 0 is RGB565. Anything else is refused, saying what it is.
func (g fbGeometry) format() (fbemu.Format, error) {
	refuse := func(why string) (fbemu.Format, error) {
		return 0, fmt.Errorf("%w: %s (%v)", ErrFbdevFormat, why, g)
	}
	switch {
	case g.Type != fbTypePackedPixels:
		return refuse(fmt.Sprintf("type %d is not packed pixels", g.Type))
	case g.Visual != fbVisualTrueColor:
		return refuse(fmt.Sprintf("visual %d is not true colour (a palette or a colour map)", g.Visual))
	case g.Grayscale != 0:
		return refuse("grayscale")
	case g.Nonstd != 0:
		return refuse(fmt.Sprintf("non-standard pixel format %d", g.Nonstd))
	case g.MSBRight:
		return refuse("most significant bit on the right")
	}
	rgb := func(r, gr, b fbemu.Bitfield) bool { return g.Red == r && g.Green == gr && g.Blue == b }
	switch {
	case g.BitsPerPixel == 32 && rgb(fbemu.Bitfield{Offset: 16, Length: 8}, fbemu.Bitfield{Offset: 8, Length: 8}, fbemu.Bitfield{Offset: 0, Length: 8}):
		if g.Transp.Length != 0 && g.Transp != (fbemu.Bitfield{Offset: 24, Length: 8}) {
			return refuse("alpha bits inside the colour")
		}
		return fbemu.XRGB8888, nil
	case g.BitsPerPixel == 16 && rgb(fbemu.Bitfield{Offset: 11, Length: 5}, fbemu.Bitfield{Offset: 5, Length: 6}, fbemu.Bitfield{Offset: 0, Length: 5}):
		return fbemu.RGB565, nil
	}
	return refuse("only XRGB8888 (32bpp r16:8 g8:8 b0:8) and RGB565 (16bpp r11:5 g5:6 b0:5) are drawn")
}

// fbPlan is how the backend lays its buffers in the framebuffer's memory.
type fbPlan struct {
	Format fbemu.Format
	// Buffers is 1 (drawn where it is scanned out) or 2 (stacked, shown
	// in turn by panning).
	Buffers int
	// Size is one buffer's bytes: LineLength rows of YRes.
	Size int
	// Single says why there is one buffer when two were asked for.
	Single string
}

// plan checks the geometry against the memory and lays out buffers (1 or
// 2) in it, pageSize being the mapping granule: a second buffer needs the
// virtual height for it, panning and a page-aligned start.
func (g fbGeometry) plan(buffers, pageSize int) (fbPlan, error) {
	f, err := g.format()
	if err != nil {
		return fbPlan{}, err
	}
	switch {
	case g.XRes < 1 || g.YRes < 1 || g.XRes > fbemu.MaxSide || g.YRes > fbemu.MaxSide:
		return fbPlan{}, fmt.Errorf("visible size %dx%d: each side must be 1 to %d pixels", g.XRes, g.YRes, fbemu.MaxSide)
	case g.SmemLen <= 0:
		return fbPlan{}, fmt.Errorf("no framebuffer memory (smem_len %d)", g.SmemLen)
	case g.LineLength < g.XRes*f.BytesPerPixel() || g.LineLength > 8*fbemu.MaxSide*f.BytesPerPixel():
		return fbPlan{}, fmt.Errorf("line length %d bytes does not fit %d pixels of %d bytes", g.LineLength, g.XRes, f.BytesPerPixel())
	}
	// In 64 bits: on a 32-bit machine lines times height may not fit an int.
	if int64(g.LineLength)*int64(g.YRes) > int64(g.SmemLen) {
		return fbPlan{}, fmt.Errorf("%d bytes of framebuffer memory (smem_len) are too little for %d lines of %d bytes", g.SmemLen, g.YRes, g.LineLength)
	}
	size := g.LineLength * g.YRes // at most SmemLen: it fits
	p := fbPlan{Format: f, Buffers: 1, Size: size}
	if buffers < 2 {
		return p, nil
	}
	switch {
	case g.YResVirtual < 2*g.YRes:
		p.Single = fmt.Sprintf("the virtual height %d holds one screen of %d lines", g.YResVirtual, g.YRes)
	case g.YPanStep == 0:
		p.Single = "the driver does not pan (ypanstep 0)"
	case 2*int64(size) > int64(g.SmemLen):
		p.Single = fmt.Sprintf("%d bytes of memory hold one screen of %d", g.SmemLen, size)
	case size%pageSize != 0:
		p.Single = fmt.Sprintf("the second screen starts at %d bytes, not on a page", size)
	default:
		p.Buffers = 2
	}
	return p, nil
}
