// Package fbemu is fbdev emulation on top of DRM client buffers, done from
// userspace: the layer the kernel calls drm_fbdev_generic (drm_fb_helper with
// its shadow buffer and damage worker). It owns a framebuffer's geometry and
// pixel format, describes it the way fb_var_screeninfo and fb_fix_screeninfo
// do, and draws into it with native operations in the spirit of fbdev's
// fillrect, copyarea and imageblit (FillRect, CopyArea, Blit, DrawText).
//
// Every operation records the rectangle it touched in a bounded damage list.
// A frame is one CPU access bracket (access.Mapping Begin/End) around all of
// its drawing; at the end of the frame the damaged byte regions are handed to
// the mapping (so the Shadow strategy copies only those) and the damage
// rectangles are sent to the display as FB_DAMAGE_CLIPS or DIRTYFB clips,
// the way the kernel's damage worker does. A frame without damage does nothing.
//
// Two displays sit under the same Framebuffer: a KMS output through package
// client (NewKMS; NewKMSOutputs with client.State.SelectOutputs for one framebuffer per
// connected display, each at its own mode), and the emulated display
// (NewEmulated: memfd buffers, frames saved as PNG, a scripted vblank
// clock), which is the package's one fake boundary.
//
// Double buffering flips on vblank and uses buffer age: a frame's buffer is
// brought up to date from the buffer shown with the damage of the frames it
// missed (lazily, so a frame that repaints everything copies nothing), and
// the caller draws only what changed. A single buffer is updated in place.
// Rotation (the requested one plus the connector's panel orientation) is
// done in software at flush, from an upright copy in memory, as
// drm_fbdev_generic blits its shadow buffer.
//
// Pixels are stored in the framebuffer's own format (XRGB8888, ARGB8888,
// RGB565). Surface is a draw.Image for interop, but the hot paths are written
// for the native layouts: fills build one row and copy it down, opaque blits
// are row copies, alpha blits and glyph masks blend four channels at once.
// Colors passed to the operations are premultiplied color.RGBA values. The
// package assumes a little-endian CPU, as internal/uapi does.
package fbemu
