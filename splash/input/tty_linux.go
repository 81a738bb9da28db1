package input

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// DefaultTTY is the tty of the VT in the foreground: the one the splash
// draws on.
const DefaultTTY = "/dev/tty0"

// TTY reads keys from a VT's tty: while open, the tty is in
// non-canonical mode with echo and signals off, so every key comes at
// once, translated by the console's keymap; Close puts the tty back as
// it was and throws away what was typed and not read.
//
// Caps Lock types nothing, so its state is asked of the console
// (KDGKBLED) when the tty is opened, with every key, and every
// CapsPoll in between: a CapsLock event says when it changed.
type TTY struct {
	// Path is the tty; "" means DefaultTTY.
	Path string
	// CapsPoll is how often Caps Lock is looked at while open; 0 means
	// 100 ms.
	CapsPoll time.Duration

	// leds reads the console's Caps Lock flag; nil means KDGKBLED (a
	// test gives a tty without one its own).
	leds func(fd int) (on, ok bool)
	esc  *Evdev // WatchEscape's

	mu    sync.Mutex
	f     *os.File
	saved *unix.Termios
	done  chan struct{}
	stop  chan struct{}
}

// TTYError says what could not be done with the tty.
type TTYError struct {
	Op, Path string
	Err      error
}

// Error names the operation and the tty.
func (e *TTYError) Error() string { return "keyboard: " + e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *TTYError) Unwrap() error { return e.Err }

// Open puts the tty in non-canonical mode, throws away what was typed
// before, and starts reading it.
func (t *TTY) Open() (<-chan Event, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f != nil {
		return nil, &TTYError{"open", t.path(), errors.New("already open")}
	}
	// Non-blocking from the start, so the file is read through the
	// poller and Close ends a read.
	f, err := os.OpenFile(t.path(), os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &TTYError{"open", t.path(), err}
	}
	var saved *unix.Termios
	var op string
	if rc, cerr := f.SyscallConn(); cerr != nil {
		op, err = "SyscallConn", cerr
	} else {
		rc.Control(func(fd uintptr) {
			saved, err = unix.IoctlGetTermios(int(fd), unix.TCGETS)
			if err != nil {
				op = "TCGETS"
				return
			}
			raw := *saved
			raw.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL | unix.ISIG | unix.IEXTEN
			raw.Iflag &^= unix.ICRNL | unix.INLCR | unix.IGNCR | unix.IXON
			raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 1, 0
			if err = unix.IoctlSetTermios(int(fd), unix.TCSETS, &raw); err != nil {
				op = "TCSETS"
				return
			}
			// What was typed before the question is not its answer:
			// an Escape typed for the details view outside questions
			// (seen through evdev, but queued on the tty too) would
			// otherwise toggle the view again now.
			unix.IoctlSetInt(int(fd), unix.TCFLSH, unix.TCIFLUSH)
		})
	}
	if err != nil {
		f.Close()
		return nil, &TTYError{op, t.path(), err}
	}
	t.f, t.saved = f, saved
	events := make(chan Event, 64)
	t.done, t.stop = make(chan struct{}), make(chan struct{})
	go t.read(f, events, t.done, t.stop)
	return events, nil
}

func (t *TTY) path() string {
	if t.Path == "" {
		return DefaultTTY
	}
	return t.Path
}

// capsLock asks the console for its lock flags; ok is false on a tty
// that is not a VT.
func capsLock(fd int) (on, ok bool) {
	flags, err := unix.IoctlGetInt(fd, uapi.KDGKBLED)
	if err != nil {
		return false, false
	}
	return flags&uapi.K_CAPSLOCK != 0, true
}

func (t *TTY) read(f *os.File, events chan<- Event, done, stop chan struct{}) {
	defer close(done)
	defer close(events)
	var d ttyDecoder
	var buf [64]byte
	defer clear(buf[:])
	raw, err := f.SyscallConn()
	if err != nil {
		return
	}
	leds := t.leds
	if leds == nil {
		leds = capsLock
	}
	polled := make(chan struct{})
	defer func() { <-polled }()
	go t.pollCaps(raw, leds, events, stop, polled)
	for {
		n, err := f.Read(buf[:])
		var caps, known bool
		raw.Control(func(fd uintptr) { caps, known = leds(int(fd)) })
		emit := func(ev Event) {
			ev.CapsLock, ev.Known = caps, known
			select {
			case events <- ev:
			case <-stop:
			}
		}
		d.feed(buf[:n], emit)
		d.flush(emit)
		clear(buf[:n])
		if err != nil {
			return
		}
	}
}

// pollCaps sends a CapsLock event with Caps Lock's state at once and
// again whenever it changes, until stop.
func (t *TTY) pollCaps(raw syscall.RawConn, leds func(int) (bool, bool), events chan<- Event, stop, done chan struct{}) {
	defer close(done)
	every := t.CapsPoll
	if every <= 0 {
		every = 100 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last, sent := false, false
	for {
		var on, ok bool
		if raw.Control(func(fd uintptr) { on, ok = leds(int(fd)) }) == nil && ok && (!sent || on != last) {
			last, sent = on, true
			select {
			case events <- Event{Kind: CapsLock, CapsLock: on, Known: true}:
			case <-stop:
				return
			}
		}
		select {
		case <-tick.C:
		case <-stop:
			return
		}
	}
}

// Close restores the tty, discards what was typed and not read, and
// stops reading.
func (t *TTY) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.f == nil {
		return nil
	}
	var errs []error
	raw, err := t.f.SyscallConn()
	if err == nil {
		raw.Control(func(fd uintptr) {
			if err := unix.IoctlSetTermios(int(fd), unix.TCSETS, t.saved); err != nil {
				errs = append(errs, &TTYError{"restore (TCSETS)", t.path(), err})
			}
			unix.IoctlSetInt(int(fd), unix.TCFLSH, unix.TCIFLUSH)
		})
	}
	close(t.stop)
	if err := t.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("keyboard: close %s: %w", t.path(), err))
	}
	<-t.done
	t.f, t.saved = nil, nil
	return errors.Join(errs...)
}
