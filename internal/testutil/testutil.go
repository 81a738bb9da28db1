// Package testutil holds what the project's tests share: requirements that
// skip on a developer's machine but fail inside the test VM (a missing device
// there is a bug, not an excuse), and a TestMain that fails a package whose
// tests leak kernel objects.
package testutil

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// InVM reports whether the tests run inside the project's test VM (or
// anywhere BOOTSPLASH_REQUIRE_DEVICES=1 is set), where every device the test
// matrix promises must exist.
func InVM() bool {
	return os.Getenv("BOOTSPLASH_REQUIRE_DEVICES") == "1"
}

// Unavailable skips the test with reason, or fails it inside the VM.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InVM() {
		t.Fatalf("required in the VM: %s", msg)
	}
	t.Skip(msg)
}

// NeedPath skips (or fails inside the VM) unless path exists.
func NeedPath(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Unavailable(t, "%s: %v", path, err)
	}
}

// kernelObject reports whether an fd link or a maps line names memory or a
// device this project owns: dma-bufs, memfds, DRM nodes, heaps, udmabuf.
func kernelObject(s string) bool {
	for _, k := range []string{"dmabuf", "memfd:", "/dev/dri/", "/dev/dma_heap/", "/dev/udmabuf", "udmabuf"} {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

// Objects lists the open fds and mappings of this process that refer to
// kernel objects the project creates, one line each ("fd 7 -> anon_inode:dmabuf",
// "map 7f..-7f.. /dmabuf:").
func Objects() []string {
	var out []string
	fds, _ := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err == nil && kernelObject(link) {
			out = append(out, "fd "+filepath.Base(fd)+" -> "+link)
		}
	}
	if maps, err := os.ReadFile("/proc/self/maps"); err == nil {
		for _, line := range strings.Split(string(maps), "\n") {
			if kernelObject(line) {
				f := strings.Fields(line)
				out = append(out, "map "+f[0]+" "+strings.Join(f[5:], " "))
			}
		}
	}
	sort.Strings(out)
	return out
}

// LeakCheckMain runs the tests and then fails the binary if any fd or
// mapping of a kernel object is still open that was not open before.
// Use it as: func TestMain(m *testing.M) { testutil.LeakCheckMain(m) }.
func LeakCheckMain(m *testing.M) {
	before := map[string]bool{}
	for _, o := range Objects() {
		before[o] = true
	}
	code := m.Run()
	var leaked []string
	for _, o := range Objects() {
		if !before[o] {
			leaked = append(leaked, o)
		}
	}
	if len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "LEAK: %d kernel objects still open after the tests:\n  %s\n", len(leaked), strings.Join(leaked, "\n  "))
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// RequireTools reports whether host programs the tests talk to (such as
// Debian's plymouth client) must be installed: under CI (CI=true) or with
// BOOTSPLASH_REQUIRE_TOOLS=1, where scripts/test installs them.
func RequireTools() bool {
	return os.Getenv("CI") == "true" || os.Getenv("BOOTSPLASH_REQUIRE_TOOLS") == "1"
}

// NeedCommand returns the path of the program name, skipping the test when
// it is not installed, or failing it where RequireTools says it must be.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if RequireTools() {
			t.Fatalf("required under CI: %s is not installed (%v)", name, err)
		}
		t.Skipf("%s is not installed: %v", name, err)
	}
	return path
}

// SyncBuffer is a bytes.Buffer that goroutines under test (a logger, a
// daemon) and the test itself may use at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// DifferingPixels counts the pixels whose 8-bit RGBA differ between a and
// b, the way the tests compare a frame with its expected render; images of
// different bounds differ in every pixel of a.
func DifferingPixels(a, b image.Image) int {
	if a.Bounds() != b.Bounds() {
		return a.Bounds().Dx() * a.Bounds().Dy()
	}
	rgba := func(c color.Color) [4]uint32 {
		r, g, b, a := c.RGBA()
		return [4]uint32{r >> 8, g >> 8, b >> 8, a >> 8}
	}
	n := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if rgba(a.At(x, y)) != rgba(b.At(x, y)) {
				n++
			}
		}
	}
	return n
}

// WriteTheme writes a theme file named t.toml, and the files beside it
// that it names, to a new temporary directory, and returns its path.
func WriteTheme(t testing.TB, text string, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "t.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// WhitePNG returns a PNG of w x h opaque white pixels.
func WhitePNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
