package text

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-text/typesetting/font"

	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// TestFontIndex: the scan finds the faces of the fonts under its
// directories with their families and characters; a second scan takes
// a file the index knows at the same size and time from the index
// without reading it, reads one that changed again, and starts over
// from a broken index.
func TestFontIndex(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	index := filepath.Join(cache, fontIndexName)
	reg, mono := filepath.Join(dir, "sub", "Go-Regular.ttf"), filepath.Join(dir, "Go-Mono.TTF")
	os.MkdirAll(filepath.Dir(reg), 0o755)
	for p, data := range map[string][]byte{reg: goregular.TTF, mono: gomono.TTF, filepath.Join(dir, "notes.txt"): []byte("not a font")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	noLog := func(string, ...any) {}
	faces := func(files []fontFile) map[string]footprint {
		out := map[string]footprint{}
		for _, f := range files {
			for _, fp := range f.faces {
				out[filepath.Base(fp.loc.File)] = fp
			}
		}
		return out
	}
	files, err := scanFonts([]string{dir, filepath.Join(dir, "missing")}, index, noLog)
	if err != nil {
		t.Fatal(err)
	}
	got := faces(files)
	if len(files) != 2 || len(got) != 2 {
		t.Fatalf("scanned %d files with faces %v; want the two fonts", len(files), got)
	}
	if fp := got["Go-Regular.ttf"]; fp.family != "go" || !fp.has('A') || !fp.has('é') || fp.has('启') || fp.has(-1) {
		t.Errorf("Go Regular: family %q, A %v, é %v, 启 %v", fp.family, fp.has('A'), fp.has('é'), fp.has('启'))
	}
	if fp := got["Go-Mono.TTF"]; fp.family != "go mono" || fontRank(fp) <= fontRank(got["Go-Regular.ttf"]) {
		t.Errorf("Go Mono: family %q, rank %d not after Go Regular's", fp.family, fontRank(fp))
	}

	// The same size and time: taken from the index, not read.
	st, _ := os.Stat(reg)
	garbage := make([]byte, st.Size())
	if err := os.WriteFile(reg, garbage, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(reg, st.ModTime(), st.ModTime())
	again, err := scanFonts([]string{dir}, index, noLog)
	if err != nil {
		t.Fatal(err)
	}
	if fp, ok := faces(again)["Go-Regular.ttf"]; !ok || !fp.has('A') {
		t.Error("a file the index knows unchanged was read again")
	}
	// A new time: read again (and now it is no font).
	later := st.ModTime().Add(time.Second)
	os.Chtimes(reg, later, later)
	again, err = scanFonts([]string{dir}, index, noLog)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := faces(again)["Go-Regular.ttf"]; ok || len(again) != 2 {
		t.Errorf("a changed file was not read again: %d files, faces %v", len(again), faces(again))
	}
	// A broken index is scanned over.
	if err := os.WriteFile(index, []byte(fontIndexMagic+"\x05\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	var said []string
	again, err = scanFonts([]string{dir}, index, func(f string, a ...any) { said = append(said, f) })
	if err != nil || len(faces(again)) != 1 || len(said) == 0 {
		t.Errorf("after a broken index: %v, faces %v, logged %q", err, faces(again), said)
	}
	if files, err := readFontIndex(index); err != nil || len(files) != 2 {
		t.Errorf("the index written over the broken one: %d files, %v", len(files), err)
	}
}

// FuzzFontIndex reads random bytes as a font index: an error or the
// files it lists, never a panic, nor character ranges allocated beyond
// what the bytes hold.
func FuzzFontIndex(f *testing.F) {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "a.ttf"), goregular.TTF, 0o644)
	index := filepath.Join(dir, "index")
	if _, err := scanFonts([]string{dir}, index, func(string, ...any) {}); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(index)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(fontIndexMagic + "\xff\xff\xff\xff"))
	f.Add([]byte("not an index"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "index")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files, err := readFontIndex(p)
		if err != nil {
			return
		}
		for _, ff := range files {
			for _, fp := range ff.faces {
				fp.has('a')
			}
		}
	})
}

// TestFontFilesMustBeRegular: a font file or the index replaced by a FIFO
// after the scan (the index names it, the theme's text is drawn later) is
// refused at once, naming it, not waited on: drawing must not stall.
func TestFontFilesMustBeRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "font.ttf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		read func() error
	}{
		{"loadFace", func() error { _, err := loadFace(font.FontID{File: fifo}); return err }},
		{"readFootprints", func() error { _, err := readFootprints(fifo); return err }},
		{"readFontIndex", func() error { _, err := readFontIndex(fifo); return err }},
	} {
		done := make(chan error, 1)
		go func() { done <- c.read() }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), fifo) {
				t.Errorf("%s of a FIFO: %v, want an error naming it", c.name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s blocked on a FIFO", c.name)
		}
	}
}
