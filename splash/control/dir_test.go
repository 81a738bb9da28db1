package control

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// listenOnce listens at path and closes at once.
func listenOnce(path string) error {
	s, err := Listen(path, ServerOptions{})
	if err == nil {
		s.Close()
	}
	return err
}

// mode is path's mode, as Lstat sees it.
func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// TestListenLeavesGivenDirectoryAlone: a directory the socket is put in
// that the daemon did not create keeps its mode, whatever it is (the
// daemon used to make it 0700, which as root on /tmp or /run takes every
// other user's access away).
func TestListenLeavesGivenDirectoryAlone(t *testing.T) {
	for _, perm := range []fs.FileMode{0o755, 0o750, 0o777 | fs.ModeSticky, 0o775 | fs.ModeSticky} {
		dir := filepath.Join(t.TempDir(), "given")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, perm); err != nil {
			t.Fatal(err)
		}
		if err := listenOnce(filepath.Join(dir, "x.sock")); err != nil {
			t.Errorf("Listen in a %v directory: %v", perm, err)
		}
		if got := mode(t, dir); got != fs.ModeDir|perm {
			t.Errorf("a given %v directory is now %v", fs.ModeDir|perm, got)
		}
	}
}

// TestListenRefusesUnsafeDirectory: a given directory others may write to
// without the sticky bit, or a symbolic link to one, is refused with the
// reason, and left as it was.
func TestListenRefusesUnsafeDirectory(t *testing.T) {
	top := t.TempDir()
	open := filepath.Join(top, "open")
	if err := os.Mkdir(open, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	groupOpen := filepath.Join(top, "group")
	if err := os.Mkdir(groupOpen, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(groupOpen, 0o770); err != nil {
		t.Fatal(err)
	}
	safe := filepath.Join(top, "safe")
	if err := os.Mkdir(safe, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(top, "link")
	if err := os.Symlink(safe, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		dir, want string
	}{
		{open, "use directory " + open + ": writable by others without the sticky bit (mode drwxrwxrwx)"},
		{groupOpen, "use directory " + groupOpen + ": writable by others without the sticky bit"},
		{link, "use directory " + link + ": is a symbolic link, which whoever may change it can point elsewhere (give the directory itself: " + safe + ")"},
		{filepath.Join(open, "sub"), "use directory " + open + ": writable by others"},
	} {
		rel, _ := filepath.Rel(top, tc.dir)
		given := filepath.Join(top, strings.Split(rel, string(filepath.Separator))[0])
		before := mode(t, given)
		err := listenOnce(filepath.Join(tc.dir, "x.sock"))
		var de *DirError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Listen in %s: %v, want a DirError %q", tc.dir, err, tc.want)
		}
		if after := mode(t, given); after != before {
			t.Errorf("Listen in %s changed its mode from %v to %v", tc.dir, before, after)
		}
		if _, err := os.Lstat(filepath.Join(tc.dir, "x.sock")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a socket was made in %s: %v", tc.dir, err)
		}
	}
	if mode(t, safe) != fs.ModeDir|0o755 {
		t.Errorf("the symbolic link's target is now %v", mode(t, safe))
	}
	// Inside a directory anyone may write to, even a safe one is not.
	inner := filepath.Join(open, "inner")
	if err := os.Mkdir(inner, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := listenOnce(filepath.Join(inner, "x.sock")); err == nil || !strings.Contains(err.Error(), "inside "+open+", which anyone may write to") {
		t.Errorf("Listen below a world-writable directory: %v", err)
	}
}

// TestListenMakesItsOwnDirectories: the levels Listen creates are its own
// and 0700; the one it found is left as it was.
func TestListenMakesItsOwnDirectories(t *testing.T) {
	top := filepath.Join(t.TempDir(), "top")
	if err := os.Mkdir(top, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := listenOnce(filepath.Join(top, "a", "b", "control")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{filepath.Join(top, "a"), filepath.Join(top, "a", "b")} {
		if got := mode(t, d); got != fs.ModeDir|0o700 {
			t.Errorf("%s: %v, want a 0700 directory", d, got)
		}
	}
	if got := mode(t, top); got != fs.ModeDir|0o755 {
		t.Errorf("the directory found, %s, is now %v", top, got)
	}
	// Found again on the next run: kept as it is.
	b := filepath.Join(top, "a", "b")
	if err := os.Chmod(b, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := listenOnce(filepath.Join(b, "control")); err != nil {
		t.Fatal(err)
	}
	if got := mode(t, b); got != fs.ModeDir|0o711 {
		t.Errorf("a directory made by an earlier run is now %v, want it left 0711", got)
	}
}
