package display

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bootsplash/bootsplash/client"
)

// Open opens the display opt asks for. BackendAuto takes KMS when a DRM
// card node exists (or opt.Device names one) and otherwise the emulated
// display, whose frames go to opt.Out: what `bootsplash run --backend
// auto` does. Kind says which it took and Why why; the log says it too.
// A KMS display with no device or no display connected yet is not an
// error: it has no heads and waits for one (Listen). Waits (for DRM
// master) end when ctx is done, and the emulated display stops writing
// its file then.
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
	case BackendAuto:
		backend, why = BackendKMS, "a display device exists"
		if opt.Device != "" {
			why = "asked for " + opt.Device
		} else if len(client.Cards()) == 0 {
			backend, why = BackendEmu, "no display device ("+client.CardPattern+" absent)"
			log.Info(why + ": using the emulated display")
		}
	default:
		return nil, fmt.Errorf("display: open: unknown backend %v", opt.Backend)
	}
	if backend == BackendEmu {
		d, err := openEmulated(ctx, opt, log)
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
