package display

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// vtLog returns a debug-level logger and what it wrote.
func vtLog() (*slog.Logger, *testutil.SyncBuffer) {
	var b testutil.SyncBuffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

// ttyFds returns this process's open fds on VT devices ("7 -> /dev/tty1").
func ttyFds() []string {
	var out []string
	links, _ := filepath.Glob("/proc/self/fd/*")
	for _, l := range links {
		if dst, err := os.Readlink(l); err == nil && strings.HasPrefix(dst, "/dev/tty") {
			out = append(out, filepath.Base(l)+" -> "+dst)
		}
	}
	slices.Sort(out)
	return out
}

// vtSites records the kernel calls made through uapi while it is
// installed, failing those fail picks (nil: let every call through).
type vtSites struct {
	mu    sync.Mutex
	sites []uapi.Site
}

func (r *vtSites) hook(fail func(i int, s uapi.Site) error) uapi.FaultHook {
	return func(s uapi.Site) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		i := len(r.sites)
		r.sites = append(r.sites, s)
		if fail == nil {
			return nil
		}
		return fail(i, s)
	}
}

func (r *vtSites) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.sites {
		out = append(out, s.String())
	}
	return out
}

// foregroundTTY returns the path of the foreground VT, found past the
// fault hook, or skips the test (fails it in the VM) where there is none.
func foregroundTTY(t *testing.T) string {
	t.Helper()
	fd, err := unix.Open("/dev/tty0", unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		testutil.Unavailable(t, "no virtual terminal: %v", err)
	}
	defer unix.Close(fd)
	var st uapi.VtStat
	if err := rawIoctl(fd, uapi.VT_GETSTATE, unsafe.Pointer(&st)); err != nil {
		testutil.Unavailable(t, "no virtual terminal: VT_GETSTATE /dev/tty0: %v", err)
	}
	return "/dev/tty" + strconv.Itoa(int(st.Active))
}

// kdMode reads the mode of the VT at path through a file of its own.
func kdMode(t *testing.T, path string) int32 {
	t.Helper()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	var mode int32
	if err := rawIoctl(fd, uapi.KDGETMODE, unsafe.Pointer(&mode)); err != nil {
		t.Fatalf("KDGETMODE %s: %v", path, err)
	}
	return mode
}

// setKDMode sets the mode of the VT at path through a file of its own, as
// another program would.
func setKDMode(t *testing.T, path string, mode int32) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uapi.KDSETMODE, uintptr(mode))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			t.Fatalf("KDSETMODE %s %s: %v", path, kdModeName(mode), e)
		}
		return
	}
}

// textVT returns the path of the foreground VT, in text mode: the VM's
// is put back in text mode if an earlier test (a fault sweep that failed
// the switch back) left it in graphics mode; elsewhere a VT in graphics
// mode (a display server's) skips the test.
func textVT(t *testing.T) string {
	t.Helper()
	tty := foregroundTTY(t)
	if m := kdMode(t, tty); m != uapi.KD_TEXT {
		if !testutil.InVM() {
			t.Skipf("%s is in %s mode (a display server's?)", tty, kdModeName(m))
		}
		setKDMode(t, tty, uapi.KD_TEXT)
	}
	return tty
}

// switchesVT skips a test that changes the mode of the machine's
// foreground VT outside the test VM, where that VT may be someone's
// console, and returns that VT's path, in text mode.
func switchesVT(t *testing.T) string {
	t.Helper()
	if !testutil.InVM() {
		t.Skip("switches the foreground VT of the machine running the test; runs in the test VM")
	}
	tty := textVT(t)
	t.Cleanup(func() { setKDMode(t, tty, uapi.KD_TEXT) })
	return tty
}

// TestVTNoTerminal: without /dev/tty0 takeVT does nothing, says so at
// debug level only, and its release is harmless.
func TestVTNoTerminal(t *testing.T) {
	before := ttyFds()
	for _, e := range []unix.Errno{unix.ENOENT, unix.ENXIO, unix.ENODEV} {
		var rec vtSites
		restore := uapi.SetFaultHook(rec.hook(func(_ int, s uapi.Site) error {
			if s.Call == "open" && s.Path == "/dev/tty0" {
				return e
			}
			return nil
		}))
		log, out := vtLog()
		release := takeVT(log, nil)
		release(true)
		release(true)
		restore()
		if got := rec.names(); !slices.Equal(got, []string{"open /dev/tty0"}) {
			t.Errorf("%v: calls %q, want only the open of /dev/tty0", e, got)
		}
		if s := out.String(); !strings.Contains(s, "level=DEBUG") || !strings.Contains(s, "no virtual terminal") || strings.Contains(s, "level=INFO") || strings.Contains(s, "level=WARN") {
			t.Errorf("%v: log should say at debug level only that there is no VT:\n%s", e, s)
		}
	}
	if after := ttyFds(); !slices.Equal(after, before) {
		t.Errorf("fds on VTs: %q, before %q", after, before)
	}
}

// TestVTNotPermitted: refused the terminal, takeVT says at info level that
// the console may draw over the splash and what switching it takes.
func TestVTNotPermitted(t *testing.T) {
	for _, c := range []struct {
		name string
		fail func(uapi.Site) bool
		err  unix.Errno
	}{
		{"open /dev/tty0", func(s uapi.Site) bool { return s.Call == "open" && s.Path == "/dev/tty0" }, unix.EACCES},
		{"open the VT", func(s uapi.Site) bool { return s.Call == "open" && s.Path != "/dev/tty0" }, unix.EACCES},
		{"KDSETMODE", func(s uapi.Site) bool { return s.Call == "ioctl" && s.Req == uapi.KDSETMODE }, unix.EPERM},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.name != "open /dev/tty0" {
				textVT(t)
			}
			before := ttyFds()
			var rec vtSites
			hit := false
			restore := uapi.SetFaultHook(rec.hook(func(_ int, s uapi.Site) error {
				if c.fail(s) {
					hit = true
					return c.err
				}
				return nil
			}))
			log, out := vtLog()
			release := takeVT(log, nil)
			release(true)
			restore()
			if !hit {
				t.Fatalf("takeVT never reached %s; calls %q", c.name, rec.names())
			}
			s := out.String()
			for _, w := range []string{"level=INFO", "the console may draw over the splash", "CAP_SYS_TTY_CONFIG", c.err.Error()} {
				if !strings.Contains(s, w) {
					t.Errorf("log does not say %q:\n%s", w, s)
				}
			}
			if after := ttyFds(); !slices.Equal(after, before) {
				t.Errorf("fds on VTs: %q, before %q", after, before)
			}
		})
	}
}

// TestVTFaults fails each of takeVT's calls up to the switch to graphics
// in turn: each leaves no fd open, makes no call after the failed one (so
// changes no mode), and logs the call that failed.
func TestVTFaults(t *testing.T) {
	tty := textVT(t)
	// The calls up to and including KDSETMODE, which is made to fail so
	// that this run changes nothing either.
	var ref vtSites
	restore := uapi.SetFaultHook(ref.hook(func(_ int, s uapi.Site) error {
		if s.Call == "ioctl" && s.Req == uapi.KDSETMODE {
			return unix.EIO
		}
		return nil
	}))
	takeVT(slog.New(slog.DiscardHandler), nil)(true)
	restore()
	want := []string{"open /dev/tty0", "VT_GETSTATE", "open " + tty, "KDGETMODE", "KDSETMODE"}
	if got := ref.names(); !slices.Equal(got, want) {
		t.Fatalf("takeVT's calls: %q, want %q", got, want)
	}
	before := ttyFds()
	for i, site := range want {
		var rec vtSites
		restore := uapi.SetFaultHook(rec.hook(func(j int, _ uapi.Site) error {
			if j == i {
				return unix.EIO
			}
			return nil
		}))
		log, out := vtLog()
		release := takeVT(log, nil)
		release(true)
		release(false)
		restore()
		if got := rec.names(); !slices.Equal(got, want[:i+1]) {
			t.Errorf("%s failing: calls %q, want %q", site, got, want[:i+1])
		}
		if s := out.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, site) || !strings.Contains(s, unix.EIO.Error()) {
			t.Errorf("%s failing: the log does not warn naming the call and the error:\n%s", site, s)
		}
		if after := ttyFds(); !slices.Equal(after, before) {
			t.Errorf("%s failing: fds on VTs: %q, before %q", site, after, before)
		}
	}
}

// TestVTGraphicsWhileShowing checks the modes another program reads on
// the foreground VT: graphics while the splash shows, text again after a
// plain quit, graphics still after a retained one.
func TestVTGraphicsWhileShowing(t *testing.T) {
	tty := switchesVT(t)
	before := ttyFds()

	log, out := vtLog()
	release := takeVT(log, nil)
	if m := kdMode(t, tty); m != uapi.KD_GRAPHICS {
		t.Errorf("%s in %s mode while the splash shows, want graphics; log:\n%s", tty, kdModeName(m), out.String())
	}
	release(true)
	if m := kdMode(t, tty); m != uapi.KD_TEXT {
		t.Errorf("%s in %s mode after a plain quit, want text; log:\n%s", tty, kdModeName(m), out.String())
	}
	release(true) // harmless
	if after := ttyFds(); !slices.Equal(after, before) {
		t.Errorf("fds on VTs after release: %q, before %q", after, before)
	}

	release = takeVT(log, nil)
	if m := kdMode(t, tty); m != uapi.KD_GRAPHICS {
		t.Errorf("%s in %s mode while the splash shows, want graphics", tty, kdModeName(m))
	}
	release(false)
	if m := kdMode(t, tty); m != uapi.KD_GRAPHICS {
		t.Errorf("%s in %s mode after a retained quit, want graphics; log:\n%s", tty, kdModeName(m), out.String())
	}
	if after := ttyFds(); !slices.Equal(after, before) {
		t.Errorf("fds on VTs after a retained release: %q, before %q", after, before)
	}
	t.Logf("log:\n%s", out.String())
}

// TestVTLeftInGraphics: a VT found in graphics mode (left so by a splash
// that quit with --retain and no successor, or by a program that died)
// is switched all the same, goes to text mode on a plain quit, and stays
// in graphics mode on a retained one.
func TestVTLeftInGraphics(t *testing.T) {
	tty := switchesVT(t)
	for _, text := range []bool{true, false} {
		setKDMode(t, tty, uapi.KD_GRAPHICS)
		var rec vtSites
		restore := uapi.SetFaultHook(rec.hook(nil))
		log, out := vtLog()
		takeVT(log, nil)(text)
		restore()
		want := []string{"open /dev/tty0", "VT_GETSTATE", "open " + tty, "KDGETMODE", "KDSETMODE"}
		if text {
			want = append(want, "KDSETMODE")
		}
		if got := rec.names(); !slices.Equal(got, want) {
			t.Errorf("release(%v): calls %q, want %q (the same as from text mode)", text, got, want)
		}
		wantMode := int32(uapi.KD_GRAPHICS)
		if text {
			wantMode = uapi.KD_TEXT
		}
		if m := kdMode(t, tty); m != wantMode {
			t.Errorf("release(%v): %s in %s mode, want %s", text, tty, kdModeName(m), kdModeName(wantMode))
		}
		if !strings.Contains(out.String(), "was already in graphics mode") {
			t.Errorf("release(%v): log does not say the VT was already in graphics mode:\n%s", text, out.String())
		}
	}
}

// TestVTRestoreFails: a failed switch back to text is a warning, and the
// fd is closed anyway.
func TestVTRestoreFails(t *testing.T) {
	tty := switchesVT(t)
	before := ttyFds()
	log, out := vtLog()
	release := takeVT(log, nil)
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		if s.Call == "ioctl" && s.Req == uapi.KDSETMODE {
			return unix.EIO
		}
		return nil
	})
	release(true)
	restore()
	if s := out.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "KDSETMODE KD_TEXT "+tty) || !strings.Contains(s, unix.EIO.Error()) {
		t.Errorf("log does not warn that KDSETMODE text failed:\n%s", s)
	}
	if after := ttyFds(); !slices.Equal(after, before) {
		t.Errorf("fds on VTs: %q, before %q", after, before)
	}
}

// rawIoctl is an ioctl the test makes to look at the VT, past the fault
// hook.
func rawIoctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR, unix.EAGAIN:
			continue
		}
		return e
	}
}
