package testutil

import (
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
