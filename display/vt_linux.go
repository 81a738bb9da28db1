package display

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// vtControl is where the foreground VT is found: VT_GETSTATE on any VT
// answers for all of them, and /dev/tty0 is the one always there when the
// kernel has VTs at all.
const vtControl = "/dev/tty0"

// vtNeeds says what switching a VT's mode takes, for the log line that
// says why it did not happen.
const vtNeeds = "KDSETMODE needs root (CAP_SYS_TTY_CONFIG) or the VT as controlling terminal, and opening it write access to the device node (its owner or the tty group)"

// takeVT switches the foreground virtual terminal to graphics mode
// (KDSETMODE KD_GRAPHICS) so the console does not draw over the splash.
// release(text) puts the terminal in text mode when text is true (a plain
// quit: the console comes back), and leaves it in graphics mode otherwise
// (a retained quit: the successor takes over a quiet VT). Without a VT, or
// without the right to open it, it logs why and does nothing.
//
// It is for a splash on a real display: with nothing on the screen (the
// emulated display) it would only freeze the console. A splash that handed
// the display over (deactivate) and was not reactivated should release
// with text false even on a plain quit: the VT is the successor's then,
// as Plymouth ignores mode changes after deactivate.
//
// The terminal is found as Plymouth's ply-terminal finds it: VT_GETSTATE
// names the foreground VT, which is then opened as /dev/ttyN. Its fd, not
// /dev/tty0, is kept, so release puts that VT back in text mode even if
// another one came to the front meanwhile: the mode is the VT's own, and a
// VT in the background only records it until it is shown again. (While a
// VT is in graphics mode under VT_AUTO the kernel ignores switches away
// from it, so that takes a VT_PROCESS controller such as logind.)
//
// A plain quit means text mode even for a VT found in graphics mode, as
// with Plymouth: a splash shows only as DRM master, so no display server
// draws on that VT at the time, and the graphics mode is a leftover (a
// splash before this one that quit with --retain and no successor, a
// program that died, a failed switch back). Restoring it would keep the
// console dark for good. The mode found is logged at debug level.
//
// The release must come before the last DRM fd closes: with the kernel's
// fbdev emulation, that close restores the fbdev console, which draws only
// on a VT in text mode; back in text mode first, the console comes back
// at once (KDSETMODE KD_TEXT makes fbdev restore its mode).
//
// Only the display mode changes; the keyboard mode, echo and cursor stay
// as they are.
//
// With sw, the VT is also put under VT_PROCESS control, as Plymouth's
// ply-terminal does, so that Alt+Fn and chvt still work while the splash
// shows (a VT in graphics mode under VT_AUTO refuses every switch): the
// kernel asks with SIGUSR1 before it switches away and tells with SIGUSR2
// when it switched back; sw.away and sw.back run on the drawing goroutine
// in between, and the VT is released (VT_RELDISP) or acknowledged after
// them. release puts the VT back under VT_AUTO.
func takeVT(log *slog.Logger, sw *vtSwitches) (release func(text bool)) {
	return takeVTWas(log, sw, -1)
}

// graphicsNow puts the foreground VT in graphics mode at once, before a
// first frame is drawn in memory fbcon draws in too (a firmware
// framebuffer): fbcon's blinking cursor would otherwise be drawn over the
// splash until takeVT, after that frame, stopped it. It returns the mode
// the VT was in, -1 when it left the VT alone (takeVT then says why).
func graphicsNow() int32 {
	fd, _, err := openForegroundVT()
	if err != nil {
		return -1
	}
	defer unix.Close(fd)
	var mode int32
	if err := uapi.Ioctl(fd, uapi.KDGETMODE, unsafe.Pointer(&mode)); err != nil {
		return -1
	}
	if err := uapi.IoctlInt(fd, uapi.KDSETMODE, uapi.KD_GRAPHICS); err != nil {
		return -1
	}
	return mode
}

// vtModeBack puts the foreground VT back in mode, for a display that
// switched it with graphicsNow and closes before takeVT took it over.
func vtModeBack(mode int32) {
	fd, _, err := openForegroundVT()
	if err != nil {
		return
	}
	defer unix.Close(fd)
	uapi.IoctlInt(fd, uapi.KDSETMODE, uintptr(mode))
}

// takeVTWas is takeVT for a VT graphicsNow switched already: was is the
// mode it found then (-1: none).
func takeVTWas(log *slog.Logger, sw *vtSwitches, was int32) (release func(text bool)) {
	nothing := func(bool) {}
	fd, path, err := openForegroundVT()
	if err != nil {
		logVT(log, err)
		return nothing
	}
	var mode int32
	if err := uapi.Ioctl(fd, uapi.KDGETMODE, unsafe.Pointer(&mode)); err != nil {
		unix.Close(fd)
		logVT(log, &vtError{Op: "KDGETMODE", Path: path, Err: err})
		return nothing
	}
	if err := uapi.IoctlInt(fd, uapi.KDSETMODE, uapi.KD_GRAPHICS); err != nil {
		unix.Close(fd)
		logVT(log, &vtError{Op: "KDSETMODE KD_GRAPHICS", Path: path, Err: err})
		return nothing
	}
	if was >= 0 {
		mode = was
	}
	if mode == uapi.KD_GRAPHICS {
		log.Debug("vt: " + path + " was already in graphics mode (left by another program); a plain quit puts it in text mode")
	} else {
		log.Debug("vt: " + path + " in graphics mode while the splash shows (was " + kdModeName(mode) + ")")
	}
	stopSwitches := func() {}
	if sw != nil {
		stopSwitches = watchVTSwitches(fd, path, sw, log)
	}
	done := false
	return func(text bool) {
		if done {
			return
		}
		done = true
		defer unix.Close(fd)
		stopSwitches()
		if !text {
			log.Debug("vt: leaving " + path + " in graphics mode for the successor")
			return
		}
		if err := uapi.IoctlInt(fd, uapi.KDSETMODE, uapi.KD_TEXT); err != nil {
			log.Warn(fmt.Sprintf("vt: %v: the console stays blank until something puts the VT back in text mode", &vtError{Op: "KDSETMODE KD_TEXT", Path: path, Err: err}))
			return
		}
		log.Debug("vt: " + path + " back in text mode")
	}
}

// vtSwitches is what a VT under VT_PROCESS control does when it is
// switched away and back: away stops drawing and drops DRM master before
// the kernel switches, back takes them up again after. Both are handed to
// the drawing goroutine as Events through changes (until done closes).
type vtSwitches struct {
	away, back func() error
	changes    chan<- Event
	done       <-chan struct{}
}

// The signals the kernel sends a VT_PROCESS controller.
const (
	vtRelease = unix.SIGUSR1
	vtAcquire = unix.SIGUSR2
)

// watchVTSwitches puts the VT open on fd under VT_PROCESS control and
// hands each switch on as an Event; stop puts it back under VT_AUTO. If
// the kernel refuses, the VT stays under VT_AUTO and no switch away is
// possible while the splash shows, which is logged.
func watchVTSwitches(fd int, path string, sw *vtSwitches, log *slog.Logger) (stop func()) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, vtRelease, vtAcquire)
	m := uapi.VtMode{Mode: uapi.VT_PROCESS, Relsig: int16(vtRelease), Acqsig: int16(vtAcquire)}
	if err := uapi.Ioctl(fd, uapi.VT_SETMODE, unsafe.Pointer(&m)); err != nil {
		signal.Stop(sigs)
		log.Warn(fmt.Sprintf("vt: %v: no switching to another VT while the splash shows", &vtError{Op: "VT_SETMODE VT_PROCESS", Path: path, Err: err}))
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			var sig os.Signal
			select {
			case sig = <-sigs:
			case <-quit:
				return
			case <-sw.done:
				return
			}
			f := func() error {
				err := sw.back()
				if e := uapi.IoctlInt(fd, uapi.VT_RELDISP, uapi.VT_ACKACQ); e != nil {
					err = errors.Join(err, &vtError{Op: "VT_RELDISP VT_ACKACQ", Path: path, Err: e})
				}
				return err
			}
			if sig == vtRelease {
				f = func() error {
					// The switch goes ahead even if dropping master
					// failed: a VT switch the splash refused would leave
					// the user stuck.
					err := sw.away()
					if e := uapi.IoctlInt(fd, uapi.VT_RELDISP, 1); e != nil {
						err = errors.Join(err, &vtError{Op: "VT_RELDISP", Path: path, Err: e})
					}
					return err
				}
			}
			ev := Event{Kind: VTBack, apply: f}
			if sig == vtRelease {
				ev.Kind = VTAway
			}
			select {
			case sw.changes <- ev:
			case <-quit:
				return
			case <-sw.done:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		// VT_AUTO first: the kernel sends no more signals, and only then
		// do they get their default action (which would end the process)
		// back.
		m := uapi.VtMode{Mode: uapi.VT_AUTO}
		if err := uapi.Ioctl(fd, uapi.VT_SETMODE, unsafe.Pointer(&m)); err != nil {
			log.Warn(fmt.Sprintf("vt: %v", &vtError{Op: "VT_SETMODE VT_AUTO", Path: path, Err: err}))
		}
		signal.Stop(sigs)
	}
}

// openForegroundVT opens the VT in front (/dev/ttyN, its path returned)
// for the ioctls that switch it: write access is all they need, and all
// the tty group has on the VT device nodes (0620).
func openForegroundVT() (fd int, path string, err error) {
	n, err := foregroundVT()
	if err != nil {
		return -1, "", err
	}
	path = "/dev/tty" + strconv.Itoa(n)
	if fd, err = uapi.Open(path, unix.O_WRONLY|unix.O_NOCTTY, 0); err != nil {
		return -1, path, &vtError{Op: "open", Path: path, Err: err}
	}
	return fd, path, nil
}

// foregroundVT returns the number of the VT in front (1 for /dev/tty1).
func foregroundVT() (int, error) {
	fd, err := uapi.Open(vtControl, unix.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return 0, &vtError{Op: "open", Path: vtControl, Err: err}
	}
	defer unix.Close(fd)
	var st uapi.VtStat
	if err := uapi.Ioctl(fd, uapi.VT_GETSTATE, unsafe.Pointer(&st)); err != nil {
		return 0, &vtError{Op: "VT_GETSTATE", Path: vtControl, Err: err}
	}
	if st.Active < 1 || st.Active > uapi.MAX_NR_CONSOLES {
		return 0, &vtError{Op: "VT_GETSTATE", Path: vtControl, Err: fmt.Errorf("foreground VT %d out of range 1..%d", st.Active, uapi.MAX_NR_CONSOLES)}
	}
	return int(st.Active), nil
}

// vtError is a failed VT call: what was tried, on which device, and the
// kernel's answer.
type vtError struct {
	Op   string // "open", "VT_GETSTATE", "KDSETMODE KD_GRAPHICS", ...
	Path string
	Err  error
}

func (e *vtError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }
func (e *vtError) Unwrap() error { return e.Err }

// noVT reports whether err means the kernel has no VTs here (CONFIG_VT
// off, or no device nodes for them), rather than a VT that failed.
func noVT(err error) bool {
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENXIO) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOTTY)
}

// logVT says why takeVT leaves the VT alone: at debug level where there is
// no VT to take, otherwise so a person can see why console text may show
// through the splash.
func logVT(log *slog.Logger, err error) {
	switch {
	case noVT(err):
		log.Debug(fmt.Sprintf("vt: no virtual terminal (%v); nothing to switch to graphics mode", err))
	case errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM):
		log.Info(fmt.Sprintf("vt: %v: the console may draw over the splash; %s", err, vtNeeds))
	default:
		log.Warn(fmt.Sprintf("vt: %v: the console may draw over the splash", err))
	}
}

// kdModeName names a KDGETMODE answer.
func kdModeName(mode int32) string {
	switch mode {
	case uapi.KD_TEXT:
		return "text"
	case uapi.KD_GRAPHICS:
		return "graphics"
	}
	return "mode " + strconv.Itoa(int(mode))
}
