package splash

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bootsplash/bootsplash/splash/theme"
)

// copyDir copies the files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestPreloadOutlivesTheFiles loads the test theme from a copy, preloads
// it and removes the copy, as switch_root empties an initramfs: every
// image still decodes and every font still parses, and a frame with text
// and a spinner at a size not drawn before is the one the intact theme
// draws. Without Preload the same check fails.
func TestPreloadOutlivesTheFiles(t *testing.T) {
	load := func() (*theme.Theme, string) {
		dir := copyDir(t, "testdata/theme")
		th, err := theme.Load(filepath.Join(dir, "test.toml"), theme.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return th, dir
	}
	st := State{Progress: 0.4, Message: "mounting /usr", Status: "ok", Frame: 3}
	intact, _ := load()
	want := filepath.Join(t.TempDir(), "want.png")
	if err := RenderFrame(want, FrameOptions{Width: 1366, Height: 768, Theme: intact, State: st}); err != nil {
		t.Fatal(err)
	}

	lazy, dir := load()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := lazy.Check(); err == nil {
		t.Fatal("a theme whose files are gone still checks without Preload: the test proves nothing")
	}

	th, dir := load()
	if err := th.Preload(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := th.Check(); err != nil {
		t.Fatalf("after Preload and the files' removal: %v", err)
	}
	got := filepath.Join(t.TempDir(), "got.png")
	if err := RenderFrame(got, FrameOptions{Width: 1366, Height: 768, Theme: th, State: st}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(want)
	b, _ := os.ReadFile(got)
	if string(a) != string(b) {
		t.Errorf("the preloaded theme draws another frame than the intact one (%s, %s)", want, got)
	}
	if err := th.Preload(); err != nil {
		t.Errorf("a second Preload: %v", err)
	}
}
