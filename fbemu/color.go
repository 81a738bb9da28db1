package fbemu

import "image/color"

// XRGB is one XRGB8888 pixel as the CPU reads it from memory: 0xXXRRGGBB.
// It is opaque; X is ignored.
type XRGB uint32

// RGBA implements color.Color.
func (p XRGB) RGBA() (r, g, b, a uint32) {
	r = uint32(p>>16) & 0xff
	g = uint32(p>>8) & 0xff
	b = uint32(p) & 0xff
	return r | r<<8, g | g<<8, b | b<<8, 0xffff
}

// ARGB is one ARGB8888 pixel with premultiplied alpha: 0xAARRGGBB.
type ARGB uint32

// RGBA implements color.Color.
func (p ARGB) RGBA() (r, g, b, a uint32) {
	r = uint32(p>>16) & 0xff
	g = uint32(p>>8) & 0xff
	b = uint32(p) & 0xff
	a = uint32(p >> 24)
	return r | r<<8, g | g<<8, b | b<<8, a | a<<8
}

// RGB565Pixel is one RGB565 pixel: R in bits 15..11, G in 10..5, B in 4..0.
type RGB565Pixel uint16

// RGBA implements color.Color.
func (p RGB565Pixel) RGBA() (r, g, b, a uint32) {
	c := RGB565.RGBA(uint32(p))
	return color.RGBA(c).RGBA()
}

type xrgbModel struct{}

// Convert turns any colour into an XRGB pixel.
func (xrgbModel) Convert(c color.Color) color.Color {
	if p, ok := c.(XRGB); ok {
		return p
	}
	return XRGB(XRGB8888.Pixel(toRGBA(c)))
}

type argbModel struct{}

// Convert turns any colour into an ARGB pixel.
func (argbModel) Convert(c color.Color) color.Color {
	if p, ok := c.(ARGB); ok {
		return p
	}
	return ARGB(ARGB8888.Pixel(toRGBA(c)))
}

type rgb565Model struct{}

// Convert turns any colour into an RGB565 pixel.
func (rgb565Model) Convert(c color.Color) color.Color {
	if p, ok := c.(RGB565Pixel); ok {
		return p
	}
	return RGB565Pixel(RGB565.Pixel(toRGBA(c)))
}

// toRGBA converts any color to an 8-bit premultiplied color.RGBA.
func toRGBA(c color.Color) color.RGBA {
	if p, ok := c.(color.RGBA); ok {
		return p
	}
	r, g, b, a := c.RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// premul packs a premultiplied color as 0xAARRGGBB, the layout blending
// works in.
func premul(c color.RGBA) uint32 {
	return uint32(c.A)<<24 | uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B)
}

// over composites the premultiplied source s over d, both 0xAARRGGBB, with
// exact rounding: each channel becomes s + round(d*(255-sa)/255). All four
// channels are computed with one 64-bit multiply.
func over(s, d uint32) uint32 {
	// Spread B, R, G, A into four 16-bit lanes: (d | d<<24) puts G and A
	// in the upper half next to B and R in the lower one.
	const lanes = 0x00ff00ff00ff00ff
	x := (uint64(d) | uint64(d)<<24) & lanes
	x = x*uint64(255-s>>24) + 0x0080008000800080
	x = (x + (x>>8)&lanes) >> 8 & lanes
	return s + (uint32(x) | uint32(x>>24))
}

// scale multiplies every channel of the 0xAARRGGBB value s by m/255 with
// exact rounding.
func scale(s, m uint32) uint32 {
	const lanes = 0x00ff00ff00ff00ff
	x := (uint64(s) | uint64(s)<<24) & lanes
	x = x*uint64(m) + 0x0080008000800080
	x = (x + (x>>8)&lanes) >> 8 & lanes
	return uint32(x) | uint32(x>>24)
}
