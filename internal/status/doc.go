// Package status is a status screen drawn on an fbemu framebuffer, in the
// spirit of gokrazy's fbstatus: host name, addresses, uptime, load,
// memory, disk usage, a clock and the last lines of a log file, updated
// once a second.
//
// It is a DRM client that sends damage clips (FB_DAMAGE_CLIPS, DIRTYFB),
// as the kernel's fbdev emulation does for a console that changes one
// line: every field and every log line is a region that remembers the text
// it shows, and an update draws, in one frame, only the regions whose text
// changed. Clearing the old text and drawing the new records exactly those
// pixels as the frame's damage, so a steady screen costs the clock's
// digits and nothing else: no full-screen redraw, no full-screen upload.
//
// Show runs a Screen on every head of a display.Display (KMS, or the
// emulated display writing PNGs), following hotplug and VT switches. The
// package imports only public packages (display, fbemu, golang.org/x/image
// and x/sys), so a program of one's own can copy it and change the fields;
// `bootsplash status` and examples/status run it.
package status
