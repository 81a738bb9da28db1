package vmtest

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// TestSysrootProgramFiles puts the host's /usr/bin/true and the libraries
// it needs into extracted package trees of their own, with the links a
// Debian package has (a relative one for the library, an absolute one for
// the interpreter), and checks that sysrootProgramFiles finds each at the
// guest path the loader looks for, in the trees, not on the host, and
// names what is missing when a package is.
func TestSysrootProgramFiles(t *testing.T) {
	const prog = "/usr/bin/true"
	host, err := ProgramFiles(prog, prog)
	if err != nil {
		t.Fatal(err)
	}
	if len(host) < 3 {
		t.Fatalf("%s: want a dynamically linked program with an interpreter and a library, got %v", prog, host)
	}
	dir := t.TempDir()
	copyTo := func(src, dst string) {
		t.Helper()
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, at string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, at); err != nil {
			t.Fatal(err)
		}
	}
	trees := map[string]string{"prog": filepath.Join(dir, "prog"), "ld": filepath.Join(dir, "ld"), "libs": filepath.Join(dir, "libs")}
	copyTo(prog, filepath.Join(trees["prog"], prog))
	// host[1] is the interpreter, the rest are libraries (ProgramFiles'
	// order).
	interp := host[1].Path
	realInterp := path.Join(path.Dir(interp), "real", "ld.so")
	copyTo(host[1].HostPath, filepath.Join(trees["ld"], realInterp))
	link(realInterp, filepath.Join(trees["ld"], interp)) // absolute: inside the tree
	var libdirs []string
	want := map[string]string{prog: filepath.Join(trees["prog"], prog), interp: filepath.Join(trees["ld"], realInterp)}
	for _, f := range host[2:] {
		real := f.Path + ".real"
		copyTo(f.HostPath, filepath.Join(trees["libs"], real))
		link(path.Base(real), filepath.Join(trees["libs"], f.Path)) // relative
		libdirs = append(libdirs, path.Dir(f.Path))
		want[f.Path] = filepath.Join(trees["libs"], real)
	}

	files, err := sysrootProgramFiles(trees, trees["prog"], prog, libdirs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = f.HostPath
	}
	for p, h := range want {
		if got[p] != h {
			t.Errorf("%s: from %q, want %q", p, got[p], h)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d files %v, want %d", len(got), got, len(want))
	}

	// Without the libraries' package, the first library is named; without
	// the interpreter's, the interpreter.
	delete(trees, "libs")
	_, err = sysrootProgramFiles(trees, trees["prog"], prog, libdirs)
	if lib := path.Base(host[2].Path); err == nil || !strings.Contains(err.Error(), "needs "+lib) {
		t.Errorf("without the libraries: error %v, want one naming %s", err, lib)
	}
	delete(trees, "ld")
	_, err = sysrootProgramFiles(trees, trees["prog"], prog, libdirs)
	if err == nil || !strings.Contains(err.Error(), "interpreter "+interp) {
		t.Errorf("without the interpreter: error %v, want one naming %s", err, interp)
	}
}

// TestResolveInTree follows links inside an extracted tree and refuses
// what is not a regular file there.
func TestResolveInTree(t *testing.T) {
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "lib", "a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "lib", "a", "f.so.1.2"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for at, target := range map[string]string{
		"lib/a/f.so.1": "f.so.1.2",          // relative
		"lib/f.so":     "/lib/a/f.so.1",     // absolute, through another link
		"lib/dir":      "a",                 // a directory
		"lib/loop":     "loop",              // a loop
		"lib/gone":     "/lib/a/missing.so", // dangling
	} {
		if err := os.Symlink(target, filepath.Join(tree, at)); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(tree, "lib", "a", "f.so.1.2")
	for _, p := range []string{"/lib/a/f.so.1.2", "/lib/a/f.so.1", "/lib/f.so"} {
		if h, ok := resolveInTree(tree, p); !ok || h != want {
			t.Errorf("resolveInTree(%s) = %q, %v; want %q", p, h, ok, want)
		}
	}
	for _, p := range []string{"/lib/dir", "/lib/loop", "/lib/gone", "/lib/nothing"} {
		if h, ok := resolveInTree(tree, p); ok {
			t.Errorf("resolveInTree(%s) = %q; want none", p, h)
		}
	}
}
