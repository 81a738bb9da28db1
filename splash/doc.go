// Package splash is what a person sees at boot: the scene (background and
// logo), the renderer that paints it on an fbemu framebuffer, and the loop
// that brings it up on a display and keeps it there.
//
// It is the userspace counterpart of the bootsplash client the kernel's
// in-kernel DRM client API was begun for ("drm: Begin an API for in-kernel
// clients", 2018): a client that owns a framebuffer, draws into it with the
// CPU inside begin_access/end_access brackets, and shows it on a plane. The
// first frame goes up before anything it does not need (fonts, control
// sockets, animation) is loaded.
//
// The daemon also asks the questions boot scripts put to the splash (a
// passphrase for an encrypted disk): one at a time, in the order they
// came, drawn by the renderer as a prompt with one bullet per character,
// and answered from a keyboard (package splash/input) read only while a
// question is open, as plymouthd's ply-keyboard does.
package splash
