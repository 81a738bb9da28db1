package testutil

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestObjectsSeesMemfdAndItsMapping(t *testing.T) {
	fd, err := unix.MemfdCreate("testutil-probe", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, 4096); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, 4096, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	has := func(kind string) bool {
		for _, o := range Objects() {
			if strings.HasPrefix(o, kind) && strings.Contains(o, "testutil-probe") {
				return true
			}
		}
		return false
	}
	if !has("fd ") || !has("map ") {
		t.Errorf("Objects() misses the memfd or its mapping: %q", Objects())
	}
	unix.Munmap(mem)
	unix.Close(fd)
	if has("fd ") || has("map ") {
		t.Errorf("Objects() still lists the closed memfd: %q", Objects())
	}
}

func TestMain(m *testing.M) { LeakCheckMain(m) }

func TestNeedCommandFindsAndRequires(t *testing.T) {
	if p := NeedCommand(t, "sh"); p == "" {
		t.Error("NeedCommand(sh) returned no path")
	}
	t.Setenv("CI", "true")
	if !RequireTools() {
		t.Error("RequireTools is false under CI=true")
	}
	t.Setenv("CI", "")
	t.Setenv("BOOTSPLASH_REQUIRE_TOOLS", "")
	if RequireTools() {
		t.Error("RequireTools is true with neither variable set")
	}
}

func TestDifferingPixels(t *testing.T) {
	a := image.NewRGBA(image.Rect(0, 0, 4, 3))
	b := image.NewRGBA(image.Rect(0, 0, 4, 3))
	if n := DifferingPixels(a, b); n != 0 {
		t.Errorf("equal images: %d", n)
	}
	b.Set(1, 2, color.RGBA{R: 1, A: 0xff})
	if n := DifferingPixels(a, b); n != 1 {
		t.Errorf("one pixel changed: %d", n)
	}
	if n := DifferingPixels(a, image.NewRGBA(image.Rect(0, 0, 3, 3))); n != 12 {
		t.Errorf("other bounds: %d, want every pixel (12)", n)
	}
}
