package input

import (
	"encoding/binary"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// DefaultEvdevGlob is where evdev devices are.
const DefaultEvdevGlob = "/dev/input/event*"

// recordSize is the size of one input_event on this architecture: 16
// bytes where a long is 32 bits, 24 where it is 64.
const recordSize = int(unsafe.Sizeof(uapi.InputEvent{}))

// rawEvent is an input_event without its time.
type rawEvent struct {
	typ, code uint16
	value     int32
}

// decodeRecords splits b into input_event records of size bytes (type,
// code and value are its last 8) and returns them and the bytes left
// over from a record cut short.
func decodeRecords(b []byte, size int) ([]rawEvent, int) {
	var out []rawEvent
	for len(b) >= size {
		r := b[size-8 : size]
		out = append(out, rawEvent{
			typ:   binary.NativeEndian.Uint16(r[0:]),
			code:  binary.NativeEndian.Uint16(r[2:]),
			value: int32(binary.NativeEndian.Uint32(r[4:])),
		})
		b = b[size:]
	}
	return out, len(b)
}

// Evdev reads keys from every evdev device (/dev/input/event*) through a
// built-in Layout, for systems without VTs. While open it grabs the
// devices (EVIOCGRAB), so what is typed goes to no one else. A device
// that appears while it is open (a USB keyboard plugged in late) is
// opened as soon as the kernel announces its node (an "add" uevent of the
// input subsystem), and in any case within Rescan, which also covers
// uevents lost or a socket that could not be had.
//
// Caps Lock is the reader's own while the devices are grabbed (the
// console's keyboard handler sees none of the keys): it starts off, is
// kept from one question to the next, and its state is sent at Open.
type Evdev struct {
	// Glob finds the devices; "" means DefaultEvdevGlob.
	Glob string
	// Layout turns key codes into characters; nil means the system's
	// (SystemKeymap), looked up at the first Open.
	Layout *Layout
	// Rescan is how often the devices are looked for again while open;
	// 0 means a second.
	Rescan time.Duration
	// Log says when a device is taken or goes; nil says nothing.
	Log *slog.Logger

	// passive reads without grabbing and passes on the Watched keys only: the
	// keys still reach the console (see WatchEscape).
	passive bool
	esc     *Evdev

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
	r    *evdevReader // the open one
	caps bool         // Caps Lock when last closed
}

// Open starts reading every device the glob finds. With none yet it
// still opens, and reads the first that comes.
func (e *Evdev) Open() (<-chan Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stop != nil {
		return nil, errors.New("keyboard: evdev already open")
	}
	glob := e.Glob
	if glob == "" {
		glob = DefaultEvdevGlob
	}
	layout := e.Layout
	if layout == nil && !e.passive {
		// The system's, looked up when a keyboard is first wanted (a
		// question opens), not on the way to the first frame.
		name, why := SystemKeymap(ReadKeymapSources())
		layout = Layouts()[name]
		e.Layout = layout
		if e.Log != nil {
			e.Log.Info("keymap for evdev", "layout", name, "why", why)
		}
	}
	if layout == nil {
		layout = US()
	}
	rescan := e.Rescan
	if rescan <= 0 {
		rescan = time.Second
	}
	if _, err := filepath.Glob(glob); err != nil {
		return nil, &TTYError{"open evdev keyboards", glob, err}
	}
	r := &evdevReader{glob: glob, layout: layout, log: e.Log, passive: e.passive, open: map[string]*os.File{}, events: make(chan Event, 64)}
	// Listening before the first scan, so that no device falls between.
	uev, uerr := client.ListenUevents()
	if uerr != nil {
		r.logf("keyboard: no uevents; evdev devices are looked for every "+rescan.String(), "err", uerr)
	}
	if n, err := r.scan(); n == 0 {
		// None yet: the question waits for one, as plymouthd's does.
		r.logf("keyboard: no evdev device yet; waiting for one", "glob", glob, "err", err)
	}
	r.caps = e.caps
	if !e.passive {
		// Room for it: the channel is new.
		r.events <- Event{Kind: CapsLock, CapsLock: r.caps, Known: true}
	}
	e.stop, e.done, e.r = make(chan struct{}), make(chan struct{}), r
	go r.run(rescan, uev, e.stop, e.done)
	return r.events, nil
}

// Close stops reading and closes the devices.
func (e *Evdev) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stop == nil {
		return nil
	}
	close(e.stop)
	<-e.done
	e.r.mu.Lock()
	e.caps = e.r.caps
	e.r.mu.Unlock()
	e.stop, e.done, e.r = nil, nil, nil
	return nil
}

// evdevReader reads the devices of one Open.
type evdevReader struct {
	glob    string
	layout  *Layout
	log     *slog.Logger
	passive bool
	events  chan Event

	mu     sync.Mutex
	open   map[string]*os.File
	caps   bool
	wg     sync.WaitGroup
	stopCh chan struct{}
}

// scan opens the devices not open yet and returns how many are open.
func (r *evdevReader) scan() (int, error) {
	paths, err := filepath.Glob(r.glob)
	if err != nil {
		return 0, err
	}
	sort.Strings(paths)
	r.mu.Lock()
	defer r.mu.Unlock()
	var lastErr error
	for _, p := range paths {
		if _, ok := r.open[p]; ok {
			continue
		}
		f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			lastErr = err
			continue
		}
		// Grabbed while open, so the keys typed for a question reach
		// no one else (a console on a VT would echo them); the grab
		// ends when the device is closed. A device that cannot be
		// grabbed (not an input device) is read all the same.
		if rc, err := f.SyscallConn(); err == nil && !r.passive {
			rc.Control(func(fd uintptr) { unix.IoctlSetInt(int(fd), uapi.EVIOCGRAB, 1) })
		}
		r.open[p] = f
		r.logf("keyboard: evdev device taken", "device", p, "name", deviceName(p))
		if r.stopCh != nil {
			r.wg.Add(1)
			go r.read(p, f)
		}
	}
	return len(r.open), lastErr
}

func (r *evdevReader) run(rescan time.Duration, uev *client.UeventListener, stop, done chan struct{}) {
	defer close(done)
	r.mu.Lock()
	r.stopCh = stop
	for p, f := range r.open {
		r.wg.Add(1)
		go r.read(p, f)
	}
	r.mu.Unlock()
	added := make(chan struct{}, 1)
	var watching sync.WaitGroup
	if uev != nil {
		watching.Add(1)
		go func() {
			defer watching.Done()
			r.watchUevents(uev, added)
		}()
	}
	t := time.NewTicker(rescan)
	defer t.Stop()
	for {
		select {
		case <-added:
			r.scan()
		case <-t.C:
			r.scan()
		case <-stop:
			if uev != nil {
				uev.Close()
				watching.Wait()
			}
			r.closeAll()
			r.wg.Wait()
			close(r.events)
			return
		}
	}
}

// watchUevents says on added (without blocking: one pending is enough)
// when the kernel adds an evdev node, or lost events that may have said
// so, until the listener is closed.
func (r *evdevReader) watchUevents(uev *client.UeventListener, added chan<- struct{}) {
	for {
		u, err := uev.Next()
		switch {
		case errors.Is(err, client.ErrUeventOverflow):
		case err != nil:
			return
		case !evdevAdded(u):
			continue
		default:
			r.logf("keyboard: the kernel added an evdev node", "device", "/dev/"+u.DevName)
		}
		select {
		case added <- struct{}{}:
		default:
		}
	}
}

// evdevAdded reports whether u is the kernel adding an evdev node
// (ACTION=add, SUBSYSTEM=input, DEVNAME=input/eventN): not the input
// device itself, which has no node, nor a mouse's legacy node.
func evdevAdded(u client.Uevent) bool {
	return u.Action == "add" && u.Subsystem == "input" && strings.HasPrefix(u.DevName, "input/event")
}

// deviceName is the name the kernel gives the evdev device at path
// ("QEMU QEMU USB Keyboard"), for logs; "" if it cannot be read.
func deviceName(path string) string {
	b, _ := os.ReadFile(filepath.Join("/sys/class/input", filepath.Base(path), "device", "name"))
	return strings.TrimSpace(string(b))
}

func (r *evdevReader) logf(msg string, args ...any) {
	if r.log != nil {
		r.log.Debug(msg, args...)
	}
}

func (r *evdevReader) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for p, f := range r.open {
		f.Close()
		delete(r.open, p)
	}
}

// read reads one device until it goes (unplugged) or is closed.
func (r *evdevReader) read(path string, f *os.File) {
	defer r.wg.Done()
	var st keyState
	buf := make([]byte, 64*recordSize)
	defer clear(buf)
	have := 0
	for {
		n, err := f.Read(buf[have:])
		have += n
		recs, left := decodeRecords(buf[:have], recordSize)
		for _, rec := range recs {
			if rec.typ != uapi.EV_KEY {
				continue
			}
			r.mu.Lock()
			ev, ok := r.layout.key(&st, &r.caps, rec.code, rec.value)
			r.mu.Unlock()
			if r.passive && !ev.Kind.Watched() {
				clear(ev.Text[:])
				continue // the console's, not ours
			}
			if ok {
				select {
				case r.events <- ev:
				case <-r.stopCh:
					return
				}
			}
		}
		copy(buf, buf[have-left:have])
		clear(buf[left:have])
		have = left
		if err != nil {
			r.mu.Lock()
			if r.open[path] == f {
				delete(r.open, path) // gone: found again if it comes back
				f.Close()
				r.logf("keyboard: evdev device gone", "device", path, "err", err)
			}
			r.mu.Unlock()
			return
		}
	}
}

// WatchEscape starts watching the same devices for Escape without taking
// any key: nothing is grabbed, so what is typed still reaches the console,
// and only Escape and the keys that scroll the view (Kind.Watched) come
// on the channel. The splash uses it for the
// details view while no question reads the keyboard. StopWatching ends it.
func (e *Evdev) WatchEscape() (<-chan Event, error) {
	e.mu.Lock()
	if e.esc == nil {
		e.esc = &Evdev{Glob: e.Glob, Rescan: e.Rescan, passive: true}
	}
	w := e.esc
	e.mu.Unlock()
	return w.Open()
}

// StopWatching ends WatchEscape.
func (e *Evdev) StopWatching() error {
	e.mu.Lock()
	w := e.esc
	e.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Close()
}

// WatchEscape watches the evdev devices for Escape as Evdev.WatchEscape
// does: a VT's tty cannot be read without taking the keys typed for the
// console, so Escape outside questions needs evdev (the evdev module
// loaded) even where the questions are answered through the tty.
func (t *TTY) WatchEscape() (<-chan Event, error) {
	t.mu.Lock()
	if t.esc == nil {
		t.esc = &Evdev{passive: true}
	}
	w := t.esc
	t.mu.Unlock()
	return w.Open()
}

// StopWatching ends WatchEscape.
func (t *TTY) StopWatching() error {
	t.mu.Lock()
	w := t.esc
	t.mu.Unlock()
	if w == nil {
		return nil
	}
	return w.Close()
}
