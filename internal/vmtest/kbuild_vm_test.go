package vmtest

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// kbuildProbe is a static Go /init for the built kernels: it proves the Go
// runtime runs on them, lists what the display tests need (card0 and its
// driver, the dma-buf heaps, udmabuf, connector modes), imports a CMA-heap
// buffer into the display with raw ioctls (numbers identical on arm and
// arm64), prints "PROBE key=value" lines on the console and restarts the
// machine (QEMU runs with -no-reboot, so it exits).
const kbuildProbe = `package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"unsafe"
)

func say(k, v string) { fmt.Printf("PROBE %s=%s\n", k, v) }

func ioctl(fd int, req uintptr, arg unsafe.Pointer) syscall.Errno {
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
	return e
}

// importHeap allocates size bytes from the heap and imports them into card0.
func importHeap(heap string, size uint64) string {
	h, err := syscall.Open("/dev/dma_heap/"+heap, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "open-heap:" + err.Error()
	}
	defer syscall.Close(h)
	alloc := struct {
		Len       uint64
		Fd        uint32
		FdFlags   uint32
		HeapFlags uint64
	}{Len: size, FdFlags: syscall.O_RDWR | syscall.O_CLOEXEC}
	if e := ioctl(h, 0xc0184800, unsafe.Pointer(&alloc)); e != 0 { // DMA_HEAP_IOCTL_ALLOC
		return "alloc:" + e.Error()
	}
	defer syscall.Close(int(alloc.Fd))
	card, err := syscall.Open("/dev/dri/card0", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "open-card:" + err.Error()
	}
	defer syscall.Close(card)
	prime := struct {
		Handle uint32
		Flags  uint32
		Fd     int32
	}{Fd: int32(alloc.Fd)}
	if e := ioctl(card, 0xc00c642e, unsafe.Pointer(&prime)); e != 0 { // DRM_IOCTL_PRIME_FD_TO_HANDLE
		return "import:" + e.Error()
	}
	return "ok"
}

func main() {
	for _, m := range [][3]string{{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"}, {"debugfs", "/sys/kernel/debug", "debugfs"}} {
		os.MkdirAll(m[1], 0o755)
		if err := syscall.Mount(m[0], m[1], m[2], 0, ""); err != nil && err != syscall.EBUSY {
			say("mount-"+m[0], err.Error())
		}
	}
	var u syscall.Utsname
	syscall.Uname(&u)
	var rel []byte
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		rel = append(rel, byte(c))
	}
	say("release", string(rel))
	say("goarch", runtime.GOARCH)
	list := func(dir string) string {
		es, err := os.ReadDir(dir)
		if err != nil {
			return "error:" + err.Error()
		}
		var ns []string
		for _, e := range es {
			ns = append(ns, e.Name())
		}
		sort.Strings(ns)
		return strings.Join(ns, ",")
	}
	say("dri", list("/dev/dri"))
	say("dma_heap", list("/dev/dma_heap"))
	if _, err := os.Stat("/dev/udmabuf"); err == nil {
		say("udmabuf", "present")
	} else {
		say("udmabuf", err.Error())
	}
	if b, err := os.ReadFile("/sys/kernel/debug/dri/0/name"); err == nil {
		say("drm_name", strings.TrimSpace(string(b)))
	} else {
		say("drm_name", "error:"+err.Error())
	}
	conns, _ := filepath.Glob("/sys/class/drm/card0-*")
	for _, c := range conns {
		st, _ := os.ReadFile(filepath.Join(c, "status"))
		modes, _ := os.ReadFile(filepath.Join(c, "modes"))
		say("connector", filepath.Base(c)+":"+strings.TrimSpace(string(st))+":"+strings.Join(strings.Fields(string(modes)), " "))
	}
	say("import_reserved", importHeap("reserved", 640*480*4))
	say("import_system_4k", importHeap("system", 4096))
	say("done", "1")
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
}
`

// TestBuiltKernelBoots builds the ARM kernels (BuildKernel) and boots each
// board with a static Go probe as /init: pl111 drives card0, both heaps and
// udmabuf are there, and the CMA heap's buffer imports on the boards whose
// pl111 allocates from CMA and is refused on the one scanning out of VRAM.
func TestBuiltKernelBoots(t *testing.T) {
	if os.Getenv("BOOTSPLASH_VM") != "1" && os.Getenv("CI") != "true" {
		t.Skip("VM tests are off: run with BOOTSPLASH_VM=1 (or CI=true)")
	}
	for _, q := range []string{"qemu-system-arm", "qemu-system-aarch64"} {
		if _, err := exec.LookPath(q); err != nil {
			t.Fatalf("%s is needed (apt-get install qemu-system-arm): %v", q, err)
		}
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	cases := []struct {
		spec       KernelSpec
		goarch     string
		board      KernelBoard
		wantImport string // of the CMA heap's buffer
		wantVRAM   bool
	}{
		{ArmVexpressKernel(), "arm", BoardVexpressA9(), "ok", false},
		{Arm64VexpressKernel(), "arm64", BoardVexpressCA53CMA(), "ok", false},
		{Arm64VexpressKernel(), "arm64", BoardVexpressCA53VRAM(), "import:invalid argument", true},
	}
	for _, c := range cases {
		t.Run(c.board.Name, func(t *testing.T) {
			start := time.Now()
			k, err := BuildKernel(ctx, CacheDir(root), c.spec)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("kernel %s (%s, key %.16s) ready in %v", k.Spec.Name, k.Release, k.Key, time.Since(start).Round(time.Millisecond))
			dir := t.TempDir()
			probe := buildProbe(t, ctx, dir, c.goarch)
			ird := NewInitramfs()
			if err := ird.AddHostFile("/init", probe); err != nil {
				t.Fatal(err)
			}
			initrd := filepath.Join(dir, "initrd.cpio.gz")
			if err := ird.WriteFile(initrd); err != nil {
				t.Fatal(err)
			}
			args, err := c.board.QEMUArgs(k)
			if err != nil {
				t.Fatal(err)
			}
			console := filepath.Join(dir, "console.log")
			args = append([]string{"-nodefaults", "-accel", "tcg"}, args...)
			args = append(args, "-initrd", initrd, "-append", c.board.CommandLine(""),
				"-display", "none", "-no-reboot", "-serial", "file:"+console)
			t.Logf("%s %s", c.board.QEMU, strings.Join(args, " "))
			bctx, bcancel := context.WithTimeout(ctx, 4*time.Minute)
			defer bcancel()
			cmd := exec.CommandContext(bctx, c.board.QEMU, args...)
			dieWithParent(cmd)
			boot := time.Now()
			out, err := cmd.CombinedOutput()
			log, _ := os.ReadFile(console)
			if err != nil {
				t.Fatalf("qemu: %v\n%s\nconsole:\n%s", err, out, log)
			}
			t.Logf("booted, probed and restarted in %v", time.Since(boot).Round(time.Millisecond))
			got := map[string][]string{}
			var vramDevs []string // pl111 devices that took their VRAM
			sc := bufio.NewScanner(strings.NewReader(string(log)))
			for sc.Scan() {
				line := sc.Text()
				if dev, _, ok := strings.Cut(line, ": using device-specific reserved memory"); ok {
					vramDevs = append(vramDevs, dev[strings.LastIndex(dev, " ")+1:])
				}
				if i := strings.Index(line, "PROBE "); i >= 0 {
					k, v, _ := strings.Cut(line[i+len("PROBE "):], "=")
					got[k] = append(got[k], strings.TrimSpace(v))
					t.Log(strings.TrimSpace(line[i:]))
				}
			}
			one := func(k string) string {
				if len(got[k]) != 1 {
					return ""
				}
				return got[k][0]
			}
			if one("done") != "1" {
				t.Fatalf("the probe did not finish; console:\n%s", log)
			}
			checks := []struct{ what, got, want string }{
				{"goarch", one("goarch"), c.goarch},
				{"/dev/dri", one("dri"), "card0"},
				{"/dev/dma_heap", one("dma_heap"), "reserved,system"},
				{"/dev/udmabuf", one("udmabuf"), "present"},
				{"CMA-heap import", one("import_reserved"), c.wantImport},
			}
			for _, ch := range checks {
				if ch.got != ch.want {
					t.Errorf("%s: got %q, want %q", ch.what, ch.got, ch.want)
				}
			}
			if !strings.HasPrefix(one("drm_name"), "pl111 ") {
				t.Errorf("card0 is %q, want pl111", one("drm_name"))
			}
			if len(got["connector"]) == 0 || !strings.Contains(strings.Join(got["connector"], " "), ":connected:") {
				t.Errorf("no connected connector: %q", got["connector"])
			}
			// The card's device ("dev=10020000.clcd"); another pl111 may
			// take its VRAM and give up (vexpress-a9's motherboard CLCD).
			dev := ""
			for _, f := range strings.Fields(one("drm_name")) {
				if d, ok := strings.CutPrefix(f, "dev="); ok {
					dev = d
				}
			}
			vram := dev != "" && strings.Contains(" "+strings.Join(vramDevs, " ")+" ", " "+dev+" ")
			if vram != c.wantVRAM {
				t.Errorf("pl111 uses its VRAM = %v, want %v", vram, c.wantVRAM)
			}
			if t.Failed() {
				t.Logf("console:\n%s", log)
			}
		})
	}
}

// buildProbe builds kbuildProbe for goarch into dir.
func buildProbe(t *testing.T, ctx context.Context, dir, goarch string) string {
	t.Helper()
	src := filepath.Join(dir, "probe")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(kbuildProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module probe\n\ngo 1.22\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "init")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM=7", "GOFLAGS=-mod=mod", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe for %s (host %s): %v\n%s", goarch, runtime.GOARCH, err, out)
	}
	return bin
}
