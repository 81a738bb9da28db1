package vmtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash"
)

// TestVMInitramfsTools boots the pinned 6.12 kernel with an initramfs that
// Debian's own mkinitramfs built with the packaging's hook and scripts
// (packaging/initramfs-tools): no guest init of ours, only initramfs-tools'
// init, its udev loading cirrus, and packaging's init-top script starting
// the splash. The screen must become the splash's frame, pixel for pixel,
// while the init waits for a root device that never comes; when it gives
// up, packaging's panic script must take the splash down for the shell.
func TestVMInitramfsTools(t *testing.T) {
	vmEnabled(t)
	it := newInitramfsTools(t)
	out := filepath.Join(it.root, "out", "vmtest", "initramfs-tools")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// The driver is named in the configuration's modules list.
	img := it.build(t, map[string]string{
		"initramfs.conf": "MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\n",
		"modules":        "cirrus\n",
	})

	// The frame the splash shows first, at cirrus's preferred size.
	want := renderSplash(t, out, 1024, 768)

	// No root device: the init waits for it (30 s) and then panics.
	shot, console := it.boot(t, out, Cirrus, img, "console=ttyS0 splash root=/dev/vdz")
	consoleText := func() string {
		b, _ := os.ReadFile(console)
		return string(b)
	}

	// The splash comes up from init-top, long before the root wait ends.
	start := time.Now()
	var last *image.RGBA
	for {
		last = shot()
		if n, _ := comparePixels(last, want); n == 0 {
			t.Logf("the splash is on the screen %v after QEMU started", time.Since(start).Round(time.Second))
			break
		}
		if strings.Contains(consoleText(), "Gave up waiting for root") || time.Since(start) > 4*time.Minute {
			writePNG(filepath.Join(out, "screen.png"), last)
			n, first := comparePixels(last, want)
			t.Fatalf("the splash never showed before the init gave up on the root (%d pixels differ; first: %s); screen in %s, console:\n%s",
				n, strings.Join(first, "; "), out, tail(consoleText(), 40))
		}
		time.Sleep(time.Second)
	}
	if strings.Contains(consoleText(), "bootsplash did not start") {
		t.Errorf("init-top warned although the splash shows:\n%s", tail(consoleText(), 40))
	}

	// No root: the init panics, runs packaging's panic script, and the
	// splash leaves the screen to the console.
	for !strings.Contains(consoleText(), "Gave up waiting for root") {
		if time.Since(start) > 5*time.Minute {
			t.Fatalf("the init never gave up on the missing root; console:\n%s", tail(consoleText(), 40))
		}
		time.Sleep(time.Second)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		last = shot()
		if n, _ := comparePixels(last, want); n != 0 {
			t.Logf("after the panic the screen is no longer the splash (%d pixels differ)", n)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the splash is still on the screen 30 s after the init panicked; console:\n%s", tail(consoleText(), 40))
		}
		time.Sleep(time.Second)
	}
}

// initramfsTools is the set-up of a test that builds an initramfs with
// Debian's mkinitramfs and boots it in QEMU with no guest init of ours:
// mkinitramfs and unshare found, a context that ends after ten minutes or
// with the test, the repository's root and the pinned 6.12 kernel.
type initramfsTools struct {
	ctx         context.Context
	mk, unshare string
	root        string
	kernel      *KernelTree
}

// newInitramfsTools sets up an initramfs-tools test; it needs root, to
// build the initramfs against the pinned kernel in a private mount
// namespace, and fails under CI without it, or skips.
func newInitramfsTools(t *testing.T) *initramfsTools {
	t.Helper()
	it := &initramfsTools{}
	it.mk = testutil.NeedCommand(t, "mkinitramfs")
	it.unshare = testutil.NeedCommand(t, "unshare")
	if os.Geteuid() != 0 {
		if testutil.RequireTools() {
			t.Fatal("required under CI: root, to build an initramfs against the pinned kernel in a private mount namespace")
		}
		t.Skip("not root: cannot build an initramfs against the pinned kernel in a private mount namespace")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	it.ctx = ctx
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	it.root = root
	it.kernel = fetchKernel(t, ctx, root, Kernel612)
	return it
}

// build is mkinitramfsTools for the pinned kernel with conf.
func (it *initramfsTools) build(t *testing.T, conf map[string]string) string {
	t.Helper()
	return mkinitramfsTools(t, it.ctx, it.mk, it.unshare, it.root, it.kernel, conf)
}

// boot starts QEMU (TCG, 512 MiB, one CPU) on dev with the pinned kernel,
// the initramfs img and the kernel command line cmdline, firmware's
// options before them (none: QEMU's SeaBIOS), and the serial console
// written to console.log in out, whose path it returns with a function
// that takes a screendump (kept as screen.ppm in out).
func (it *initramfsTools) boot(t *testing.T, out string, dev Device, img, cmdline string, firmware ...string) (shot func() *image.RGBA, console string) {
	t.Helper()
	console = filepath.Join(out, "console.log")
	devArgs, err := dev.QEMUArgs()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-nodefaults", "-accel", "tcg", "-cpu", "max", "-m", "512", "-smp", "1"}, firmware...)
	q, stderr := startQEMU(t, it.ctx, append(append(args,
		"-kernel", it.kernel.Vmlinuz, "-initrd", img,
		"-append", cmdline,
		"-display", "none", "-no-reboot",
		"-serial", "file:"+console,
	), devArgs...))
	shotPath := filepath.Join(out, "screen.ppm")
	return func() *image.RGBA {
		if err := q.Screendump(shotPath, "", -1); err != nil {
			t.Fatalf("screendump: %v\n%s", err, stderr.String())
		}
		s, err := ReadPPM(shotPath)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, console
}

// mkinitramfsTools builds, with Debian's mkinitramfs (mk, run in a
// private mount namespace by unshare), an initramfs for kernel from a
// local initramfs-tools configuration holding packaging's hook and
// scripts, the current bootsplash and its helper, and conf: more files of
// that configuration by their path in it (initramfs.conf, modules, a
// test's own hooks and scripts, which are made executable). It returns the
// image's path.
func mkinitramfsTools(t *testing.T, ctx context.Context, mk, unshare, root string, kernel *KernelTree, conf map[string]string) string {
	t.Helper()
	work := t.TempDir()
	bin := filepath.Join(work, "bootsplash")
	if err := GoBuild(ctx, root, "./cmd/bootsplash", bin); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, "packaging")
	dir := filepath.Join(work, "conf")
	files := map[string]string{}
	for _, name := range []string{
		"hooks/bootsplash",
		"scripts/init-top/bootsplash",
		"scripts/init-bottom/bootsplash",
		"scripts/panic/bootsplash",
	} {
		b, err := os.ReadFile(filepath.Join(pkg, "initramfs-tools", name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	for name, data := range conf {
		files[name] = data
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "hooks/") || strings.HasPrefix(name, "scripts/") {
			mode = 0o755
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	defaults := filepath.Join(work, "default")
	if err := os.WriteFile(defaults, []byte("BOOTSPLASH_THEME=\"\"\nBOOTSPLASH_OPTS=\"\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// mkinitramfs reads /lib/modules/RELEASE and /boot/config-RELEASE: show
	// it the pinned kernel's in a private mount namespace.
	for _, d := range []string{"upper", "ovwork", "boot"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(kernel.Dir, "boot", "config-"+kernel.Release))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "boot", "config-"+kernel.Release), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(work, "initrd.img")
	script := fmt.Sprintf(`set -e
mount -t overlay overlay -o lowerdir=/usr/lib:%s,upperdir=%s,workdir=%s /usr/lib
mount --bind %s /boot
%s -d %s -o %s %s
`, filepath.Join(kernel.Dir, "lib"), filepath.Join(work, "upper"), filepath.Join(work, "ovwork"),
		filepath.Join(work, "boot"), mk, dir, img, kernel.Release)
	cmd := exec.CommandContext(ctx, unshare, "--mount", "--propagation", "private", "sh", "-c", script)
	cmd.Env = append(os.Environ(),
		"BOOTSPLASH="+bin,
		"BOOTSPLASH_HELPER="+filepath.Join(pkg, "bootsplash-helper"),
		"BOOTSPLASH_DEFAULTS="+defaults)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkinitramfs: %v\n%s", err, b)
	}
	return img
}

// startQEMU starts qemu-system-x86_64 with args and a QMP socket, and
// dials that; QEMU is killed and the connection closed when the test
// ends. The buffer collects QEMU's stderr.
func startQEMU(t *testing.T, ctx context.Context, args []string) (*QMP, *bytes.Buffer) {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "vmsock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	qmpSock := filepath.Join(sockDir, "qmp")
	args = append(args, "-qmp", "unix:"+qmpSock+",server=on,wait=off")
	qemu := exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	dieWithParent(qemu)
	var stderr bytes.Buffer
	qemu.Stderr = &stderr
	if err := qemu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		qemu.Process.Kill()
		qemu.Wait()
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		q, err := DialQMP(qmpSock, 10*time.Second)
		if err == nil {
			t.Cleanup(func() { q.Close() })
			return q, &stderr
		}
		if time.Now().After(deadline) {
			t.Fatalf("QMP: %v\n%s", err, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// renderSplash renders the built-in theme's first frame at w×h into out.
func renderSplash(t *testing.T, out string, w, h int) image.Image {
	t.Helper()
	name := filepath.Join(out, "render.png")
	if err := splash.RenderFrame(name, splash.FrameOptions{Width: w, Height: h}); err != nil {
		t.Fatal(err)
	}
	img, err := readPNG(name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
