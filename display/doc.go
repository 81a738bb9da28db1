// Package display is the layer the kernel keeps below its in-kernel DRM
// clients, done from userspace: drm_client (the device's lifetime, which
// outputs to light) and drm_fb_helper (a framebuffer per output, hotplug,
// DRM master, the VT). A program that draws (a boot splash, a status
// screen) opens a Display, draws frames on its heads and hands its events
// back to it between frames; it never sees the device, its connectors or
// its buffers.
//
// Open takes the display a program wants: with BackendAuto, a KMS device
// when a DRM card node exists and otherwise the emulated display, whose
// frames are written to a PNG file (Kind and Why say which it took and
// why). Its heads each carry an fbemu.Framebuffer: a frame is
// Framebuffer.Frame (begin CPU access, draw, end with the damage)
// followed by Head.Present (wait for the flip, write the file). A head
// whose Full is true wants every pixel painted: it is new, or its mode
// was set again after another program held the display.
//
// # Which outputs are lit
//
// One rule chooses the outputs, client.State.SelectOutput and
// client.State.SelectOutputs, as drm_client_modeset_probe does:
//
//   - The first frame goes to one output only, the first connector, in the
//     kernel's order, that is connected and lists modes. Its mode is the
//     one of Options.Mode's size when that is set (an error names the
//     sizes there are when none matches), else the connector's preferred
//     mode, else its first. The encoder and CRTC already driving the
//     connector are kept when they can be, with the primary plane already
//     on that CRTC, so taking over from the console needs no full
//     modeset. The connectors are read as the kernel last probed them and
//     probed again only when that finds no output.
//   - Once the first frame is up, the first event Listen hands over lights
//     every other connected connector with modes, each at its preferred
//     mode (Options.Mode is the first output's only), on a CRTC and
//     primary plane no lit head uses, chosen the same way. A connector
//     left with no free CRTC stays dark; the log says so.
//   - Each head is drawn upright and turned on its way to the panel by
//     Options.Rotation plus the connector's "panel orientation" property
//     (fbemu.NewKMS).
//   - On hotplug a head stays as it is while its connector is connected
//     and still lists the head's mode, even if it now prefers another:
//     what is on screen is not disturbed. A head whose connector went, or
//     whose mode is no longer listed, is put out (its framebuffers
//     removed, which turns its CRTC off); new connected connectors are lit
//     as above.
//   - When the device goes (its driver unbinds, the GPU is unplugged) the
//     display has no heads and waits for a card to appear; then the rule
//     starts over on the new card, every connected output at once.
//
// # Events
//
// Listen, called once after the first frame, takes the VT (graphics mode,
// switches under VT_PROCESS control as Plymouth does) and follows the
// kernel's uevents. Each change comes as an Event that the consumer applies
// on its own drawing goroutine, so heads never change under a frame.
// Deactivate and Reactivate drop and take back DRM master for another
// program; Close and CloseRetained release everything, the latter leaving
// the last frame on screen (CLOSEFB) for a successor.
//
// A backend beside these (a window that shows the frames, a firmware
// framebuffer) implements Display with heads made by NewHead.
package display
