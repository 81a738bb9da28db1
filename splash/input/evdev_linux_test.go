package input

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// record is one input_event of size bytes as the kernel writes it: the
// time (two longs), then type, code and value.
func record(size int, typ, code uint16, value int32) []byte {
	b := make([]byte, size)
	binary.NativeEndian.PutUint64(b, 0x1122334455667788) // a time that is not zero
	binary.NativeEndian.PutUint16(b[size-8:], typ)
	binary.NativeEndian.PutUint16(b[size-6:], code)
	binary.NativeEndian.PutUint32(b[size-4:], uint32(value))
	return b
}

// keys is the byte stream of pressing and releasing each code, with the
// EV_SYN reports and a LED event between, as a keyboard sends.
func keys(size int, codes ...uint16) []byte {
	var b []byte
	for _, c := range codes {
		b = append(b, record(size, uapi.EV_KEY, c, 1)...)
		b = append(b, record(size, uapi.EV_SYN, 0, 0)...)
		b = append(b, record(size, uapi.EV_KEY, c, 0)...)
		b = append(b, record(size, uapi.EV_SYN, 0, 0)...)
	}
	return b
}

// TestDecodeRecordsEveryLayout: the records of 32-bit architectures (16
// bytes) and of 64-bit ones (24) decode alike, and a record cut short is
// kept for the next read.
func TestDecodeRecordsEveryLayout(t *testing.T) {
	for _, size := range []int{16, 24} {
		stream := append(record(size, uapi.EV_KEY, uapi.KEY_A, 1), record(size, uapi.EV_LED, uapi.LED_CAPSL, 1)...)
		stream = append(stream, record(size, uapi.EV_KEY, uapi.KEY_A, 0)[:size-3]...)
		got, left := decodeRecords(stream, size)
		want := []rawEvent{{uapi.EV_KEY, uapi.KEY_A, 1}, {uapi.EV_LED, uapi.LED_CAPSL, 1}}
		if !reflect.DeepEqual(got, want) || left != size-3 {
			t.Errorf("size %d: %v, %d left; want %v, %d", size, got, left, want, size-3)
		}
	}
	if recordSize != 16 && recordSize != 24 {
		t.Errorf("input_event is %d bytes here", recordSize)
	}
}

func TestLayoutKeys(t *testing.T) {
	type press struct {
		code  uint16
		value int32
	}
	run := func(l *Layout, ps ...press) string {
		var st keyState
		caps := false
		var out []byte
		for _, p := range ps {
			if ev, ok := l.key(&st, &caps, p.code, p.value); ok {
				switch ev.Kind {
				case Text:
					out = append(out, ev.Bytes()...)
				default:
					out = append(out, '<')
					out = append(out, ev.Kind.String()...)
					out = append(out, '>')
				}
			}
		}
		return string(out)
	}
	tap := func(c uint16) []press { return []press{{c, 1}, {c, 0}} }
	seq := func(ps ...[]press) []press {
		var out []press
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	shifted := func(c uint16) []press {
		return seq([]press{{uapi.KEY_LEFTSHIFT, 1}}, tap(c), []press{{uapi.KEY_LEFTSHIFT, 0}})
	}
	for _, tc := range []struct {
		l    *Layout
		ps   []press
		want string
	}{
		{US(), seq(tap(uapi.KEY_H), tap(uapi.KEY_I), shifted(uapi.KEY_1), tap(uapi.KEY_SPACE), tap(uapi.KEY_KP7)), "hi! 7"},
		{US(), seq(tap(uapi.KEY_CAPSLOCK), tap(uapi.KEY_A), shifted(uapi.KEY_B), tap(uapi.KEY_1), tap(uapi.KEY_CAPSLOCK), tap(uapi.KEY_C)), "<caps-lock>Ab1<caps-lock>c"},
		{US(), seq([]press{{uapi.KEY_Q, 1}, {uapi.KEY_Q, 2}, {uapi.KEY_Q, 2}, {uapi.KEY_Q, 0}}), "qqq"},
		{US(), seq(tap(uapi.KEY_X), tap(uapi.KEY_BACKSPACE), tap(uapi.KEY_ENTER), tap(uapi.KEY_KPENTER), tap(uapi.KEY_ESC)), "x<backspace><enter><enter><escape>"},
		{US(), seq(tap(uapi.KEY_UP), tap(uapi.KEY_DOWN), tap(uapi.KEY_PAGEUP), tap(uapi.KEY_PAGEDOWN), tap(uapi.KEY_HOME), tap(uapi.KEY_END)), "<up><down><page-up><page-down><home><end>"},
		{US(), seq([]press{{uapi.KEY_LEFTCTRL, 1}}, tap(uapi.KEY_C), tap(uapi.KEY_X), []press{{uapi.KEY_LEFTCTRL, 0}}), "<interrupt>"},
		{DE(), seq(tap(uapi.KEY_Y), tap(uapi.KEY_SEMICOLON), shifted(uapi.KEY_2)), "zö\""},
		{FR(), seq(tap(uapi.KEY_Q), tap(uapi.KEY_1), shifted(uapi.KEY_1)), "a&1"},
	} {
		if got := run(tc.l, tc.ps...); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.l.Name, got, tc.want)
		}
	}
}

// TestEvdevStream feeds the reader byte streams through FIFOs standing
// for /dev/input/event*, one of them appearing after Open.
func TestEvdevStream(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string) *os.File {
		p := filepath.Join(dir, name)
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		// Held open for reading and writing, so the reader never sees
		// the FIFO's end.
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	kb0 := mk("event0")
	e := &Evdev{Glob: filepath.Join(dir, "event*"), Rescan: 20 * time.Millisecond}
	ch, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	capsAtOpen(t, ch, false)
	// Written in two pieces cut inside a record.
	b := keys(recordSize, uapi.KEY_O, uapi.KEY_K)
	kb0.Write(b[:recordSize+5])
	time.Sleep(10 * time.Millisecond)
	kb0.Write(b[recordSize+5:])
	got := collect(t, ch, 2)
	if string(got[0].Bytes())+string(got[1].Bytes()) != "ok" {
		t.Errorf("typed %q %q, want \"ok\"", got[0].Bytes(), got[1].Bytes())
	}
	// A keyboard plugged in later.
	kb1 := mk("event1")
	time.Sleep(100 * time.Millisecond)
	kb1.Write(keys(recordSize, uapi.KEY_CAPSLOCK, uapi.KEY_Z))
	got = collect(t, ch, 2)
	if got[0].Kind != CapsLock || !got[0].CapsLock || string(got[1].Bytes()) != "Z" || !got[1].CapsLock {
		t.Errorf("late keyboard: %+v", got)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-ch; ok {
		t.Error("events after Close")
	}
}

// TestEvdevWaitsForFirstDevice: with no device at all, Open still opens,
// and the first keyboard that comes is read.
func TestEvdevWaitsForFirstDevice(t *testing.T) {
	dir := t.TempDir()
	e := &Evdev{Glob: filepath.Join(dir, "event*"), Rescan: 20 * time.Millisecond}
	ch, err := e.Open()
	if err != nil {
		t.Fatalf("Open with no devices yet: %v", err)
	}
	defer e.Close()
	capsAtOpen(t, ch, false)
	p := filepath.Join(dir, "event3")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	time.Sleep(100 * time.Millisecond)
	f.Write(keys(recordSize, uapi.KEY_Y))
	if got := collect(t, ch, 1); string(got[0].Bytes()) != "y" {
		t.Errorf("first keyboard typed %+v, want \"y\"", got[0])
	}
}

func TestEvdevBadGlob(t *testing.T) {
	if _, err := (&Evdev{Glob: "/dev/input/[event"}).Open(); err == nil {
		t.Fatal("Open with a malformed glob succeeded")
	}
}

// TestEvdevWatchEscape: the Escape watch passes on Escape only.
func TestEvdevWatchEscape(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "event0")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := &Evdev{Glob: filepath.Join(dir, "event*"), Rescan: 20 * time.Millisecond}
	ch, err := e.WatchEscape()
	if err != nil {
		t.Fatal(err)
	}
	f.Write(keys(recordSize, uapi.KEY_A, uapi.KEY_ENTER, uapi.KEY_CAPSLOCK, uapi.KEY_ESC, uapi.KEY_B, uapi.KEY_PAGEUP, uapi.KEY_C, uapi.KEY_END))
	if got := collect(t, ch, 3); got[0].Kind != Escape || got[1].Kind != PageUp || got[2].Kind != End {
		t.Errorf("watch sent %+v, want Escape, PageUp, End", got)
	}
	select {
	case ev := <-ch:
		t.Errorf("watch sent %+v after End; it passes on nothing else", ev)
	case <-time.After(50 * time.Millisecond):
	}
	if err := e.StopWatching(); err != nil {
		t.Fatal(err)
	}
	for range ch {
	}
	// The watch and a question's Open are separate.
	if _, err := e.Open(); err != nil {
		t.Fatal(err)
	}
	e.Close()
}

// TestEvdevAdded: of the uevents a USB keyboard's arrival sends, the one
// for its evdev node is taken, as the kernel spells it.
func TestEvdevAdded(t *testing.T) {
	ev := func(s string) client.Uevent {
		u, err := client.ParseUevent([]byte(strings.ReplaceAll(s, "|", "\x00")))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	const dev = "/devices/pci0000:00/0000:00:03.0/usb1/1-1/1-1:1.0/0003:0627:0001.0001/input/input5"
	for _, tc := range []struct {
		u    client.Uevent
		want bool
	}{
		{ev("add@" + dev + "/event3|ACTION=add|DEVPATH=" + dev + "/event3|SUBSYSTEM=input|MAJOR=13|MINOR=67|DEVNAME=input/event3|SEQNUM=2301"), true},
		{ev("add@" + dev + "|ACTION=add|DEVPATH=" + dev + "|SUBSYSTEM=input|PRODUCT=3/627/1/111|NAME=\"QEMU QEMU USB Keyboard\"|SEQNUM=2300"), false},
		{ev("add@" + dev + "/mouse1|ACTION=add|DEVPATH=" + dev + "/mouse1|SUBSYSTEM=input|DEVNAME=input/mouse1|SEQNUM=2302"), false},
		{ev("remove@" + dev + "/event3|ACTION=remove|DEVPATH=" + dev + "/event3|SUBSYSTEM=input|DEVNAME=input/event3|SEQNUM=2310"), false},
		{ev("add@/devices/virtual/drm/card0|ACTION=add|DEVPATH=/devices/virtual/drm/card0|SUBSYSTEM=drm|DEVNAME=dri/card0|SEQNUM=9"), false},
	} {
		if got := evdevAdded(tc.u); got != tc.want {
			t.Errorf("%s %s %s: %v, want %v", tc.u.Action, tc.u.Subsystem, tc.u.DevName, got, tc.want)
		}
	}
}

// capsAtOpen takes the Caps Lock state Open sends first.
func capsAtOpen(t *testing.T, ch <-chan Event, want bool) {
	t.Helper()
	if ev := collect(t, ch, 1)[0]; ev.Kind != CapsLock || !ev.Known || ev.CapsLock != want {
		t.Fatalf("first event %+v, want Caps Lock's state (%v)", ev, want)
	}
}

// TestEvdevCapsLockKept: Caps Lock turned on at one question is still on
// at the next, and said so at Open, so the hint shows before a key.
func TestEvdevCapsLockKept(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "event0")
	if err := unix.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := &Evdev{Glob: filepath.Join(dir, "event*"), Rescan: 20 * time.Millisecond}
	ch, err := e.Open()
	if err != nil {
		t.Fatal(err)
	}
	capsAtOpen(t, ch, false)
	f.Write(keys(recordSize, uapi.KEY_CAPSLOCK))
	if ev := collect(t, ch, 1)[0]; ev.Kind != CapsLock || !ev.CapsLock {
		t.Fatalf("Caps Lock pressed: %+v", ev)
	}
	e.Close()
	for range ch {
	}
	ch, err = e.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	capsAtOpen(t, ch, true)
	f.Write(keys(recordSize, uapi.KEY_Q))
	if ev := collect(t, ch, 1)[0]; string(ev.Bytes()) != "Q" || !ev.CapsLock {
		t.Errorf("typed %+v at the next question, want \"Q\" with Caps Lock on", ev)
	}
}
