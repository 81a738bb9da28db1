package display

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// TestFbdevRefusesWhatIsNotAFramebuffer: a regular file, a FIFO, another
// character device and a missing path are each refused, naming the path
// and what it is, before any ioctl.
func TestFbdevRefusesWhatIsNotAFramebuffer(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fb0")
	if err := os.WriteFile(file, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{file, file + " is a regular file, not a framebuffer device (character device 29:N)"},
		{fifo, fifo + " is a FIFO"},
		{"/dev/null", "/dev/null is character device 1:3"},
		{filepath.Join(dir, "none"), "open " + filepath.Join(dir, "none") + ": no such file or directory"},
		{dir, dir + ": is a directory"},
	} {
		_, err := openFbdev(context.Background(), c.path, Options{Buffers: 1}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("openFbdev(%s): %v, want %q", c.path, err, c.want)
		}
	}
}

func TestFbNodeKind(t *testing.T) {
	if k := fbNodeKind(unix.S_IFCHR|0o660, unix.Mkdev(uapi.FB_MAJOR, 0)); k != "" {
		t.Errorf("fb0 is %q", k)
	}
	if k := fbNodeKind(unix.S_IFBLK|0o660, unix.Mkdev(8, 0)); k != "block device 8:0" {
		t.Errorf("sda is %q", k)
	}
}

// TestGeometryOf reads fbdev's structs as efifb fills them: the id up to
// its NUL, the channels, and -1 millimetres as unknown.
func TestGeometryOf(t *testing.T) {
	var v uapi.FbVarScreeninfo
	var f uapi.FbFixScreeninfo
	v.Xres, v.Yres, v.Xres_virtual, v.Yres_virtual, v.Bits_per_pixel = 1280, 800, 1280, 800, 32
	v.Red, v.Green, v.Blue, v.Transp = uapi.FbBitfield{Offset: 16, Length: 8}, uapi.FbBitfield{Offset: 8, Length: 8}, uapi.FbBitfield{Length: 8}, uapi.FbBitfield{Offset: 24, Length: 8}
	v.Width, v.Height = 0xffffffff, 0xffffffff
	// Id is [16]int8 or [16]uint8 by architecture, as C's char.
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&f.Id[0])), len(f.Id)), "EFI VGA")
	f.Smem_len, f.Line_length, f.Visual = 4096000, 5120, uapi.FB_VISUAL_TRUECOLOR
	g := geometryOf(&v, &f)
	if g.ID != "EFI VGA" || g.WidthMM != 0 || g.HeightMM != 0 {
		t.Errorf("geometry %+v", g)
	}
	if want := efifb(); g.String() != want.String() {
		t.Errorf("geometry %v, want %v", g, want)
	}
	if p, err := g.plan(1, 4096); err != nil || p.Buffers != 1 || p.Size != 5120*800 {
		t.Errorf("plan = %+v, %v", p, err)
	}
}

func TestBootReason(t *testing.T) {
	t.Setenv(BootEnv, "")
	if r := BootReason(true); r != "asked" {
		t.Errorf("asked: %q", r)
	}
	if os.Getppid() != 1 && os.Getpid() != 1 {
		if r := BootReason(false); r != "" {
			t.Errorf("a test run from a shell counts as a boot splash: %q", r)
		}
	}
	t.Setenv(BootEnv, "1")
	if r := BootReason(false); r != BootEnv+"=1" {
		t.Errorf("%s=1: %q", BootEnv, r)
	}
	t.Setenv(BootEnv, "0")
	if r := BootReason(false); r != "" {
		t.Errorf("%s=0: %q", BootEnv, r)
	}
}

// TestOpenAutoAsBootSplashWaits: with no display device and no
// framebuffer, a boot splash waits for a card (a KMS display with no
// heads) instead of taking the emulated display.
func TestOpenAutoAsBootSplashWaits(t *testing.T) {
	// The machine's own cards and framebuffer (the VM's guest has both)
	// are not looked at: Open sees a /dev with neither.
	empty := t.TempDir()
	defer func(cards func() []string, fb string) { autoCards, autoFbdev = cards, fb }(autoCards, autoFbdev)
	autoCards = func() []string { return nil }
	autoFbdev = filepath.Join(empty, "fb0")
	d, err := Open(context.Background(), Options{Boot: true, Out: filepath.Join(t.TempDir(), "x.png")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Kind() != KMS || len(d.Heads()) != 0 || !strings.Contains(d.Why(), "started as a boot splash (asked)") {
		t.Errorf("Open as a boot splash: %v with %d heads (%s)", d.Kind(), len(d.Heads()), d.Why())
	}
	t.Setenv(BootEnv, "0")
	e, err := Open(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Kind() != Emulated {
		t.Errorf("Open from a test: %v (%s)", e.Kind(), e.Why())
	}
}
