package status

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// TailOptions bound what a Tail keeps.
type TailOptions struct {
	// Lines is how many of the last lines are kept; 0 means 64.
	Lines int
	// MaxLine is the longest line kept, in bytes; the rest of a longer
	// line is dropped. 0 means 512.
	MaxLine int
}

// Tail follows a log file as `tail -F` does: it keeps the last lines,
// reads what is appended on each Poll, starts over when the file is
// truncated, and moves to the new file when the path is renamed away and
// created again (log rotation). Only a regular file is followed: a FIFO,
// a device or a directory is refused when opened, so nothing blocks and no
// device is read. Its memory is bounded by the options, whatever the file
// holds. It is not safe for concurrent use.
type Tail struct {
	path    string
	opt     TailOptions
	f       *os.File
	fi      fs.FileInfo // of f, to see the path change under us
	off     int64       // bytes of f consumed
	buf     []byte      // read buffer
	partial []byte      // the line being read, up to MaxLine bytes
	cut     bool        // the line being read was longer than MaxLine (or started before the window)
	lines   []string    // ring of complete lines
	head    int         // index of the oldest line in lines
	n       int         // complete lines held
	status  string      // why the file is not followed right now; "" when it is
}

// readChunk is how much a Tail reads at a time.
const readChunk = 32 << 10

// OpenTail opens path and reads its last lines. An error says what path is
// when it is not a regular file, or why it cannot be read.
func OpenTail(path string, opt TailOptions) (*Tail, error) {
	if opt.Lines <= 0 {
		opt.Lines = 64
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = 512
	}
	t := &Tail{path: path, opt: opt, buf: make([]byte, readChunk), lines: make([]string, opt.Lines),
		partial: make([]byte, 0, opt.MaxLine)}
	f, fi, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	t.follow(f, fi)
	if err := t.read(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// NotRegularError is a log path that names something other than a regular
// file.
type NotRegularError struct {
	// Mode is the file's type.
	Mode fs.FileMode
}

// Error reads "is a FIFO, not a regular file".
func (e *NotRegularError) Error() string {
	what := "an irregular file"
	switch m := e.Mode; {
	case m&fs.ModeNamedPipe != 0:
		what = "a FIFO"
	case m.IsDir():
		what = "a directory"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a block device"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	}
	return "is " + what + ", not a regular file"
}

// openRegular opens path when it is a regular file: checked before the
// open (a device may act on open) and again on the file opened, which is
// opened without blocking so a FIFO swapped in between cannot hang it.
func openRegular(path string) (*os.File, fs.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: &NotRegularError{Mode: fi.Mode()}}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	if fi, err = f.Stat(); err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: &NotRegularError{Mode: fi.Mode()}}
	}
	return f, fi, nil
}

// follow starts reading f from where its last lines begin.
func (t *Tail) follow(f *os.File, fi fs.FileInfo) {
	t.f, t.fi, t.off = f, fi, 0
	t.partial, t.cut = t.partial[:0], false
	t.skipTo(fi.Size())
}

// skipTo starts reading at the window of the last lines before size, when
// there is more than that window left to read.
func (t *Tail) skipTo(size int64) {
	window := int64(t.opt.Lines) * int64(t.opt.MaxLine+1)
	if size-t.off > window {
		t.off = size - window
		// The first line read is a tail of a line: drop it.
		t.partial, t.cut = t.partial[:0], true
	}
}

// Path returns the path followed.
func (t *Tail) Path() string { return t.path }

// Status says why the file is not being followed right now ("" when it
// is): the path is gone after a rotation, or was replaced by something
// that is not a regular file.
func (t *Tail) Status() string { return t.status }

// Poll reads what was appended since the last Poll. It notices a
// truncation (the file shrank: read again from its start) and a rotation
// (the path names another file: finish the old one, then follow the new
// one from its start). A path that is missing or not a regular file is
// reported by Status, and the lines already read are kept; Poll tries
// again next time. The error is for reads that fail.
func (t *Tail) Poll() error {
	fi, err := os.Stat(t.path)
	switch {
	case err != nil:
		t.status = "waiting: " + errText(err)
	case !os.SameFile(fi, t.fi):
		// Rotated: what was written to the old file before the rename
		// comes first.
		if err := t.read(); err != nil {
			return err
		}
		f, nfi, err := openRegular(t.path)
		if err != nil {
			t.status = "waiting: " + errText(err)
			return nil
		}
		t.f.Close()
		t.follow(f, nfi)
		t.status = ""
	default:
		t.status = ""
	}
	return t.read()
}

// errText is err without the path, which the screen shows already.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// read reads f from t.off to its end.
func (t *Tail) read() error {
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("log %s: %w", t.path, err)
	}
	if fi.Size() < t.off {
		// Truncated (copytruncate, or > file): start over.
		t.off = 0
		t.partial, t.cut = t.partial[:0], false
	}
	t.skipTo(fi.Size())
	for {
		n, err := t.f.ReadAt(t.buf, t.off)
		t.off += int64(n)
		t.feed(t.buf[:n])
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("log %s: %w", t.path, err)
		}
		if t.off >= fi.Size()+int64(len(t.buf)) {
			// It grows as fast as we read: the rest waits for the next Poll.
			return nil
		}
	}
}

// feed splits b into lines.
func (t *Tail) feed(b []byte) {
	for len(b) > 0 {
		i := indexByte(b, '\n')
		part := b
		if i >= 0 {
			part = b[:i]
		}
		if room := t.opt.MaxLine - len(t.partial); room > 0 {
			t.partial = append(t.partial, part[:min(room, len(part))]...)
		}
		if i < 0 {
			return
		}
		if !t.cut {
			t.push(clean(t.partial))
		}
		t.partial, t.cut = t.partial[:0], false
		b = b[i+1:]
	}
}

func indexByte(b []byte, c byte) int {
	for i, v := range b {
		if v == c {
			return i
		}
	}
	return -1
}

// push adds a complete line, dropping the oldest when full.
func (t *Tail) push(line string) {
	if t.n < len(t.lines) {
		t.lines[(t.head+t.n)%len(t.lines)] = line
		t.n++
	} else {
		t.lines[t.head] = line
		t.head = (t.head + 1) % len(t.lines)
	}
}

// Lines appends the last lines to dst, oldest first, the line still being
// written (no newline yet) last, and returns it.
func (t *Tail) Lines(dst []string) []string {
	for i := 0; i < t.n; i++ {
		dst = append(dst, t.lines[(t.head+i)%len(t.lines)])
	}
	if len(t.partial) > 0 && !t.cut {
		dst = append(dst, clean(t.partial))
	}
	return dst
}

// clean makes a line safe to draw: invalid UTF-8 and control characters
// become U+FFFD, tabs become spaces, a trailing CR goes.
func clean(b []byte) string {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	plain := true
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == '\t':
			sb.WriteByte(' ')
		case r == utf8.RuneError || unicode.IsControl(r):
			sb.WriteRune(utf8.RuneError)
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// Close closes the file.
func (t *Tail) Close() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}
