// Package firstframe keeps the splash's first frame ready made: drawn by
// bootsplash when the initramfs is built, stored raw, one file per panel
// size and pixel format, and copied into the scanout buffer in one pass at
// boot, before the theme is parsed or any image decoded. The full render
// follows it and paints the same pixels.
//
// It mirrors what the kernel does for its own boot logo: the picture
// (drivers/video/logo) is converted at build time into the framebuffer's
// layout (pnmtologo), so that fbcon draws it without decoding anything.
//
// A frame is used only when everything it was drawn for still holds: the
// same bootsplash build (its Go build ID, which covers the embedded
// theme and the renderer's code), the head's size, scale, pixel format
// and an upright framebuffer. Anything else, and any damaged file, is
// refused, saying why, and the splash renders as it would without it.
package firstframe
