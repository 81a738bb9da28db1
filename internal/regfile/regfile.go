// Package regfile reads the files a user names (themes, images, fonts,
// results) only when they are regular files, as the kernel's S_ISREG tells
// them apart: opened O_NONBLOCK so that a FIFO cannot block the open,
// checked with fstat, and capped in size before anything is read. A FIFO,
// a directory or a device node given where a file was expected gets an
// error that says what it is, never a hang.
package regfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// NotRegularError is a path that names something other than a regular
// file. The error returned wraps it in an *fs.PathError naming the path.
type NotRegularError struct {
	// Mode is the file's type and permission bits.
	Mode fs.FileMode
}

// Error reads "is a FIFO, not a regular file".
func (e *NotRegularError) Error() string {
	return "is " + Describe(e.Mode) + ", not a regular file"
}

// TooLargeError is a file larger than the cap for its kind.
type TooLargeError struct {
	// What names the kind of file ("theme file", "image", "font").
	What string
	// Size is the file's size in bytes (at least Max+1 when it grew while
	// being read).
	Size int64
	// Max is the cap.
	Max int64
}

// Error reads "is 40000000 bytes, over the 33554432-byte (32 MiB) cap on a font".
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("is %d bytes, over the %d-byte (%s) cap on %s", e.Size, e.Max, Human(uint64(e.Max)), article(e.What))
}

func article(s string) string {
	if s == "" {
		return "a file"
	}
	switch s[0] {
	case 'a', 'e', 'i', 'o', 'u':
		return "an " + s
	}
	return "a " + s
}

// Human prints a byte count in binary units: "512 KiB", "1.5 GiB".
func Human(n uint64) string {
	units := []string{"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d bytes", n)
	}
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// Describe names a file type: "a FIFO", "a directory", "a device", "a
// socket", "a symbolic link", "a regular file".
func Describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a device (character)"
	case m&fs.ModeDevice != 0:
		return "a device (block)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "an irregular file"
}

// Open opens path for reading when it is a regular file of at most max
// bytes; what names the kind of file in a TooLargeError. The type is
// checked before the open, so that no device is opened for nothing (some
// act on open), and again with fstat after it, on the file actually
// opened: a FIFO swapped in between is opened without blocking and
// refused. Errors are *fs.PathErrors naming path; the file's size is
// returned with it. Read it through a LimitReader (ReadAll does): a file
// may grow after the check.
func Open(path string, max int64, what string) (*os.File, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if err := check(fi, max, what); err != nil {
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, 0, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, 0, err
	}
	if err := check(fi, max, what); err != nil {
		f.Close()
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return f, fi.Size(), nil
}

func check(fi fs.FileInfo, max int64, what string) error {
	if !fi.Mode().IsRegular() {
		return &NotRegularError{Mode: fi.Mode()}
	}
	if fi.Size() > max {
		return &TooLargeError{What: what, Size: fi.Size(), Max: max}
	}
	return nil
}

// ReadFile reads the whole of path, a regular file of at most max bytes
// (Open says what it checks).
func ReadFile(path string, max int64, what string) ([]byte, error) {
	f, _, err := Open(path, max, what)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, max, what)
}

// ReadAll reads r, the file path that Open opened, to its end, failing
// with a TooLargeError when it holds more than max bytes (it grew after
// Open checked it).
func ReadAll(r io.Reader, path string, max int64, what string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: path, Err: err}
	}
	if int64(len(b)) > max {
		return nil, &fs.PathError{Op: "read", Path: path, Err: &TooLargeError{What: what, Size: int64(len(b)), Max: max}}
	}
	return b, nil
}

// OpenReader opens path as Open does and returns a reader of it that fails
// with a TooLargeError past max bytes, should the file grow after the
// check. Close it when done.
func OpenReader(path string, max int64, what string) (io.ReadCloser, error) {
	f, _, err := Open(path, max, what)
	if err != nil {
		return nil, err
	}
	return &capped{f: f, left: max, path: path, max: max, what: what}, nil
}

type capped struct {
	f    *os.File
	left int64
	path string
	max  int64
	what string
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a file at the cap from one over it.
		var b [1]byte
		if n, _ := c.f.Read(b[:]); n > 0 {
			return 0, &fs.PathError{Op: "read", Path: c.path, Err: &TooLargeError{What: c.what, Size: c.max + 1, Max: c.max}}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.f.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capped) Close() error { return c.f.Close() }
