package display

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/bootsplash/bootsplash/client"
)

// Open opens the display opt asks for. BackendAuto takes, in this order:
//
//   - KMS when a DRM card node exists (or opt.Device names one);
//   - else the firmware framebuffer, FbdevPath, when it exists and can be
//     drawn on (efifb, vesafb, simplefb before any DRM driver bound); it
//     moves to the first DRM card that appears (Listen);
//   - else, for a boot splash (BootReason), KMS with no device yet: the
//     display waits for the first card to appear and never writes a file;
//   - else the emulated display, whose frames go to opt.Out: what
//     `bootsplash run --backend auto` does on a machine with no display.
//
// Kind says which it took and Why why; the log says it too. A KMS display
// with no device or no display connected yet is not an error: it has no
// heads and waits for one (Listen). Waits (for DRM master) end when ctx
// is done, and the emulated display stops writing its file then.
func Open(ctx context.Context, opt Options) (Display, error) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.Buffers == 0 {
		opt.Buffers = 1
	}
	backend, why := opt.Backend, ""
	switch backend {
	case BackendKMS:
		why = "asked for KMS"
	case BackendEmu:
		why = "asked for the emulated display"
	case BackendFbdev:
		why = "asked for a framebuffer device"
	case BackendAuto:
		backend, why = BackendKMS, "a display device exists"
		if opt.Device != "" {
			why = "asked for " + opt.Device
			break
		}
		if len(autoCards()) > 0 {
			break
		}
		none := "no display device (" + client.CardPattern + " absent)"
		if _, err := os.Stat(autoFbdev); err == nil {
			d, err := openFbdev(ctx, autoFbdev, opt, log)
			if err == nil {
				d.why = none + ": the firmware framebuffer " + autoFbdev + " exists"
				log.Info(d.why + ": drawing on it until a DRM driver binds")
				return d, nil
			}
			log.Warn(fmt.Sprintf("%v: not drawing on it", err))
			none += " and " + autoFbdev + " cannot be drawn on"
		}
		if boot := BootReason(opt.Boot); boot != "" {
			why = none + ", started as a boot splash (" + boot + ")"
			log.Info(why + ": waiting for the first display to appear")
			break
		}
		backend, why = BackendEmu, none
		log.Info(why + ": using the emulated display")
	default:
		return nil, fmt.Errorf("display: open: unknown backend %v", opt.Backend)
	}
	switch backend {
	case BackendEmu:
		d, err := openEmulated(ctx, opt, log)
		if err != nil {
			return nil, err
		}
		d.why = why
		return d, nil
	case BackendFbdev:
		path := opt.Device
		if path == "" {
			path = FbdevPath
		}
		d, err := openFbdev(ctx, path, opt, log)
		if err != nil {
			return nil, err
		}
		d.why = why
		return d, nil
	}
	d, err := openKMS(ctx, opt, log)
	if err != nil {
		return nil, err
	}
	d.why = why
	return d, nil
}

// Where BackendAuto looks for a display: the DRM cards and the firmware
// framebuffer (its tests look at an empty directory instead, on machines
// with displays too).
var (
	autoCards = client.Cards
	autoFbdev = FbdevPath
)

// BootEnv is the environment variable that says whether the program is
// the boot splash: "1" says it is, "0" that it is not, whatever BootReason
// would find otherwise.
const BootEnv = "BOOTSPLASH_BOOT"

// BootReason says why the program counts as the boot splash, or "" when
// it does not. The rule: asked (boot, which the daemon sets), or
// BOOTSPLASH_BOOT=1; else, unless BOOTSPLASH_BOOT=0, a process that is
// init (PID 1) or init's child: the initramfs's init started it, or
// systemd did (a service's parent is PID 1). A program started from a
// shell or a test is neither, and keeps the emulated display.
func BootReason(boot bool) string {
	if boot {
		return "asked"
	}
	switch os.Getenv(BootEnv) {
	case "1":
		return BootEnv + "=1"
	case "0":
		return ""
	}
	switch {
	case os.Getpid() == 1:
		return "running as init"
	case os.Getppid() == 1:
		return "a child of init"
	}
	return ""
}
