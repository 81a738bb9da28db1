// Package display is the layer the kernel keeps below its in-kernel DRM
// clients, done from userspace: drm_client (the device's lifetime, which
// outputs to light) and drm_fb_helper (a framebuffer per output, hotplug,
// DRM master, the VT). A program that draws (a boot splash, a status
// screen) opens a Display, draws frames on its heads and hands its events
// back to it between frames; it never sees the device, its connectors or
// its buffers.
//
// Open takes the display a program wants: with BackendAuto, a KMS device
// when a DRM card node exists; else the firmware framebuffer (/dev/fb0 from
// efifb, vesafb or simplefb), drawn on until a DRM card appears and then
// handed over to it; else, for a boot splash (BootReason), nothing yet:
// it waits for the first card; and otherwise the emulated display, whose
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
// # The firmware framebuffer
//
// Before any DRM driver has bound, the screen the firmware lit is a
// framebuffer device. The fbdev backend maps its memory and draws on it
// with the same fbemu operations (fbemu.NewOn): no dma-buf and no
// DMA_BUF_IOCTL_SYNC, as fbcon writes it; two buffers shown in turn by
// FBIOPAN_DISPLAY where the virtual height, the driver's pan step and the
// page size allow, else one drawn while on screen (the log says which and
// why). Only XRGB8888 and RGB565 layouts are drawn; anything else is
// refused naming its bitfields. When the real driver binds, the kernel
// removes the firmware framebuffer and a DRM card appears: its outputs
// become the display's heads (each wanting a full frame) and the
// framebuffer is released; the log gives the time from the last frame on
// the framebuffer to the first on the card.
//
// What the kernel does between the firmware and the card, that no program
// can prevent: when the driver binds, the aperture helpers unregister the
// firmware framebuffer, the driver registers its own fbdev emulation (fb0
// again) and fbcon takes it over; the driver's probe may set a mode on a
// buffer of its own before the card's node is there to open. The splash
// keeps the VT in graphics mode so fbcon draws nothing, and its first frame
// on the card follows the card's event (TestVMFirmwareFramebuffer logs the
// times). A head's first frame on a card that sets its mode is then
// painted once more: the modeset may clear the memory the frame was drawn
// in (QEMU's standard VGA clears its VRAM when bochs-drm enables a CRTC).
// A CRTC the console left lit in the same mode is not set again, and its
// first frame is painted once.
// Before the splash runs, fbcon may show a blinking cursor on the firmware
// framebuffer: the kernel argument vt.global_cursor_default=0 hides it.
//
// The firmware's logo (ACPI BGRT) is read by ReadFirmwareLogo and placed
// by FirmwareLogo.Place: where the firmware drew it in the firmware's mode
// (FirmwareMode, known to a display that began on the firmware
// framebuffer), as Plymouth's BGRT theme places it in another.
// ReadSecureBoot says whether the firmware enforces Secure Boot, from the
// UEFI variables efivarfs shows (it mounts nothing: without efivarfs,
// nothing is known). docs/firmware.md gives the whole sequence and the times measured.
//
// A backend beside these (a window that shows the frames) implements
// Display with heads made by NewHead.
package display
