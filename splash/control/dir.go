package control

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// MakeDir makes sure dir can hold a socket or FIFO of the daemon's. The
// levels of dir it creates are this process's own and made mode 0700;
// what already exists was given to it and is only checked (CheckDir),
// never changed: the daemon changes the mode or owner of nothing it did
// not create itself.
func MakeDir(dir string) error {
	dir = filepath.Clean(dir)
	// The levels missing, deepest first.
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return socketError("create directory", dir, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	// The deepest level that exists was given: check it before putting
	// anything in it.
	top := dir
	if len(missing) > 0 {
		top = filepath.Dir(missing[len(missing)-1])
	}
	if err := CheckDir(top); err != nil {
		return err
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) {
				// Made by someone else meanwhile: not ours.
				if err := CheckDir(d); err != nil {
					return err
				}
				continue
			}
			return socketError("create directory", d, err)
		}
		// Ours: exactly 0700, whatever the umask left.
		if err := os.Chmod(d, 0o700); err != nil {
			return &SocketError{"chmod 0700", d, err}
		}
	}
	return nil
}

// DirError refuses a directory the daemon was given for its socket or
// FIFO, saying why.
type DirError struct {
	Path string
	// Why says what is wrong with it and what to do instead.
	Why string
}

// Error names the directory and why it is refused.
func (e *DirError) Error() string { return "use directory " + e.Path + ": " + e.Why }

// CheckDir refuses a directory the daemon did not create that is not safe
// to put its socket or FIFO in: a symbolic link (checked as given, since
// whoever can change the link can move the socket), not a directory, a
// directory users other than root and this one own, or one of those
// writable by its group or by others without the sticky bit (anyone there
// could replace the socket). Its ancestors may not be writable by others
// without the sticky bit either. It changes nothing.
func CheckDir(dir string) error {
	dir = filepath.Clean(dir)
	fi, err := os.Lstat(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once
		}
		return &SocketError{"use directory", dir, err}
	}
	if fi.Mode().Type() == fs.ModeSymlink {
		why := "is a symbolic link, which whoever may change it can point elsewhere"
		if t, err := filepath.EvalSymlinks(dir); err == nil {
			why += fmt.Sprintf(" (give the directory itself: %s)", t)
		}
		return &DirError{dir, why}
	}
	if !fi.IsDir() {
		return &DirError{dir, fmt.Sprintf("not a directory (%v)", fi.Mode().Type())}
	}
	if err := checkDirOwner(dir, fi); err != nil {
		return err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o002 != 0 && fi.Mode()&fs.ModeSticky == 0 {
			return &DirError{dir, fmt.Sprintf("inside %s, which anyone may write to (mode %v, no sticky bit), so anyone could replace it", d, fi.Mode())}
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}

// checkDirOwner refuses a directory of another user's, or one others may
// write to without the sticky bit.
func checkDirOwner(dir string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return &DirError{dir, fmt.Sprintf("owned by uid %d, who could replace what the daemon puts there (give a directory of root's or uid %d's)", st.Uid, os.Geteuid())}
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return &DirError{dir, fmt.Sprintf("writable by others without the sticky bit (mode %v), so anyone could replace what the daemon puts there", fi.Mode())}
	}
	return nil
}
