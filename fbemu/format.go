package fbemu

import (
	"fmt"
	"image/color"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// Format is a pixel layout a Framebuffer can be drawn in. It maps to one DRM
// fourcc code, a client.Format; convert with FormatOf and FourCC at the
// boundary to client. The two types are distinct so that one cannot be
// passed where the other is meant.
type Format uint8

// The formats fbemu draws in natively.
const (
	// XRGB8888 is 32 bits per pixel, B,G,R,X in memory; X is written as 0xff.
	XRGB8888 Format = iota + 1
	// ARGB8888 is 32 bits per pixel, B,G,R,A in memory, premultiplied alpha.
	ARGB8888
	// RGB565 is 16 bits per pixel, little-endian R:G:B 5:6:5.
	RGB565
)

// Formats lists the supported formats in order of preference for a splash:
// the first one a plane offers is the one to use.
func Formats() []Format { return []Format{XRGB8888, ARGB8888, RGB565} }

// FormatOf returns the Format for a DRM fourcc code (DRM_FORMAT_*).
func FormatOf(fourcc client.Format) (Format, error) {
	switch uint32(fourcc) {
	case uapi.DRM_FORMAT_XRGB8888:
		return XRGB8888, nil
	case uapi.DRM_FORMAT_ARGB8888:
		return ARGB8888, nil
	case uapi.DRM_FORMAT_RGB565:
		return RGB565, nil
	}
	return 0, fmt.Errorf("fbemu: pixel format %v (%#x) not supported", fourcc, uint32(fourcc))
}

// ChooseFormat picks the preferred supported format among the fourcc codes a
// plane offers.
func ChooseFormat(planeFormats []client.Format) (Format, error) {
	for _, f := range Formats() {
		for _, code := range planeFormats {
			if code == f.FourCC() {
				return f, nil
			}
		}
	}
	return 0, fmt.Errorf("fbemu: the plane offers none of XRGB8888, ARGB8888, RGB565 (%d formats)", len(planeFormats))
}

// FourCC returns the DRM fourcc code of f.
func (f Format) FourCC() client.Format {
	switch f {
	case XRGB8888:
		return uapi.DRM_FORMAT_XRGB8888
	case ARGB8888:
		return uapi.DRM_FORMAT_ARGB8888
	case RGB565:
		return uapi.DRM_FORMAT_RGB565
	}
	return 0
}

// Valid reports whether f is one of the supported formats.
func (f Format) Valid() bool { return f >= XRGB8888 && f <= RGB565 }

// String returns the fourcc name, such as "XRGB8888".
func (f Format) String() string {
	switch f {
	case XRGB8888:
		return "XRGB8888"
	case ARGB8888:
		return "ARGB8888"
	case RGB565:
		return "RGB565"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// BytesPerPixel returns the size of one pixel in memory.
func (f Format) BytesPerPixel() int {
	if f == RGB565 {
		return 2
	}
	return 4
}

// BitsPerPixel returns fb_var_screeninfo.bits_per_pixel for f.
func (f Format) BitsPerPixel() int { return 8 * f.BytesPerPixel() }

// Depth returns the number of meaningful color bits (24 for XRGB8888).
func (f Format) Depth() int {
	switch f {
	case XRGB8888:
		return 24
	case ARGB8888:
		return 32
	}
	return 16
}

// Bitfield is the place of one channel inside a pixel, as fbdev's
// struct fb_bitfield describes it.
type Bitfield struct {
	Offset, Length int
}

// Channels returns the red, green, blue and transparency bitfields of f, as
// fb_var_screeninfo reports them.
func (f Format) Channels() (red, green, blue, transp Bitfield) {
	switch f {
	case XRGB8888:
		return Bitfield{16, 8}, Bitfield{8, 8}, Bitfield{0, 8}, Bitfield{}
	case ARGB8888:
		return Bitfield{16, 8}, Bitfield{8, 8}, Bitfield{0, 8}, Bitfield{24, 8}
	case RGB565:
		return Bitfield{11, 5}, Bitfield{5, 6}, Bitfield{0, 5}, Bitfield{}
	}
	return
}

// Pixel converts a premultiplied color to f's native pixel value (the low
// 16 bits for RGB565).
func (f Format) Pixel(c color.RGBA) uint32 {
	switch f {
	case XRGB8888:
		return 0xff000000 | uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
	case ARGB8888:
		return uint32(c.A)<<24 | uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
	case RGB565:
		return uint32(c.R>>3)<<11 | uint32(c.G>>2)<<5 | uint32(c.B>>3)
	}
	return 0
}

// RGBA converts a native pixel value of f to a premultiplied color.
func (f Format) RGBA(v uint32) color.RGBA {
	switch f {
	case XRGB8888:
		return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
	case ARGB8888:
		return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), uint8(v >> 24)}
	case RGB565:
		r, g, b := uint8(v>>11)&0x1f, uint8(v>>5)&0x3f, uint8(v)&0x1f
		return color.RGBA{r<<3 | r>>2, g<<2 | g>>4, b<<3 | b>>2, 0xff}
	}
	return color.RGBA{}
}

// ColorModel returns the color model of f, which converts to XRGB, ARGB or
// RGB565Pixel.
func (f Format) ColorModel() color.Model {
	switch f {
	case ARGB8888:
		return argbModel{}
	case RGB565:
		return rgb565Model{}
	}
	return xrgbModel{}
}
