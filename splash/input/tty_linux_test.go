package input

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPty returns a pseudo-terminal's master and its slave's path.
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

func termios(t *testing.T, path string) unix.Termios {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return *tio
}

func collect(t *testing.T, ch <-chan Event, n int) []Event {
	t.Helper()
	var got []Event
	for len(got) < n {
		select {
		case ev := <-ch:
			got = append(got, ev)
		case <-time.After(3 * time.Second):
			t.Fatalf("got %d events, want %d: %v", len(got), n, got)
		}
	}
	return got
}

func text(s string) Event {
	var ev Event
	ev.Len = copy(ev.Text[:], s)
	return ev
}

// TestTTYOnPty types at a pseudo-terminal as the console would and reads
// the Events; the terminal's settings are put back afterwards.
func TestTTYOnPty(t *testing.T) {
	m, slave := openPty(t)
	before := termios(t, slave)
	// Typed before the question: not its answer.
	m.Write([]byte("early"))
	time.Sleep(20 * time.Millisecond)
	tty := &TTY{Path: slave}
	ch, err := tty.Open()
	if err != nil {
		t.Fatal(err)
	}
	during := termios(t, slave)
	if during.Lflag&(unix.ICANON|unix.ECHO|unix.ISIG) != 0 {
		t.Errorf("open tty still canonical, echoing or with signals: lflag %#x", during.Lflag)
	}
	// Letters, a 3-byte UTF-8 character, DEL, Enter, the Up arrow (an
	// escape sequence), Left (one that means nothing, dropped), Ctrl+C,
	// then a lone Escape.
	m.Write([]byte("pa\x7fs€\r\x1b[A\x1b[D\x03"))
	got := collect(t, ch, 7)
	want := []Event{text("p"), text("a"), {Kind: Backspace}, text("s"), text("€"), {Kind: Enter}, {Kind: Up}}
	for i := range got {
		got[i].CapsLock, got[i].Known = false, false // a pty has no keyboard flags
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events %v\nwant %v", got, want)
	}
	if ev := collect(t, ch, 1)[0]; ev.Kind != Interrupt {
		t.Errorf("Ctrl+C: %v, want interrupt", ev.Kind)
	}
	time.Sleep(20 * time.Millisecond)
	m.Write([]byte("\x1b"))
	if ev := collect(t, ch, 1)[0]; ev.Kind != Escape {
		t.Errorf("ESC alone: %v, want escape", ev.Kind)
	}
	// Typed after the prompt is answered and before Close: thrown away,
	// not left for the console.
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("events after Close")
	}
	after := termios(t, slave)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("termios not restored:\nbefore %+v\nafter  %+v", before, after)
	}
	if err := tty.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Open again works (a second question).
	if _, err := tty.Open(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
}

func TestTTYDecoderSplitReads(t *testing.T) {
	var d ttyDecoder
	var got []Event
	emit := func(ev Event) { got = append(got, ev) }
	in := []byte("é\x1b[[Ax\x1bOPy")
	for _, b := range in {
		d.feed([]byte{b}, emit)
	}
	want := []Event{text("é"), text("x"), text("y")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("byte by byte: %v, want %v", got, want)
	}
}

func TestTTYOpenMissing(t *testing.T) {
	_, err := (&TTY{Path: "/nonexistent/tty"}).Open()
	if err == nil || !errors.Is(err, os.ErrNotExist) || err.Error() != "keyboard: open /nonexistent/tty: no such file or directory" {
		t.Errorf("Open of a missing tty: %v", err)
	}
}

// TestTTYCapsLockPolled: Caps Lock types nothing on a VT, so its state is
// sent when the tty opens and whenever the console's flag changes, with
// no key typed.
func TestTTYCapsLockPolled(t *testing.T) {
	_, slave := openPty(t)
	var mu sync.Mutex
	on := true
	tty := &TTY{Path: slave, CapsPoll: 5 * time.Millisecond, leds: func(int) (bool, bool) {
		mu.Lock()
		defer mu.Unlock()
		return on, true
	}}
	ch, err := tty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	if ev := collect(t, ch, 1)[0]; ev.Kind != CapsLock || !ev.CapsLock || !ev.Known {
		t.Errorf("at open: %+v, want Caps Lock on", ev)
	}
	select {
	case ev := <-ch:
		t.Errorf("an event while nothing changed: %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
	mu.Lock()
	on = false
	mu.Unlock()
	if ev := collect(t, ch, 1)[0]; ev.Kind != CapsLock || ev.CapsLock || !ev.Known {
		t.Errorf("after the flag went off: %+v, want Caps Lock off", ev)
	}
	if err := tty.Close(); err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
}
