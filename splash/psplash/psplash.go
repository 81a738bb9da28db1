package psplash

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/internal/ratelog"
)

// FIFOName is the FIFO's name in its directory, as psplash names it.
const FIFOName = "psplash_fifo"

// DefaultDir is the FIFO's directory when $PSPLASH_FIFO_DIR is unset.
const DefaultDir = "/run"

// MaxCommand is the longest command read, terminator excluded.
const MaxCommand = 4096

// Dir is where psplash would put its FIFO: $PSPLASH_FIFO_DIR, or
// DefaultDir.
func Dir() string {
	if d := os.Getenv("PSPLASH_FIFO_DIR"); d != "" {
		return d
	}
	return DefaultDir
}

// Options tunes a FIFO.
type Options struct {
	// Dir is the FIFO's directory; "" means Dir().
	Dir string
	// Log receives the commands (debug) and what was ignored; nil
	// discards them.
	Log *slog.Logger
	// LogEvery is how often at most one kind of bad command is logged;
	// 0 means control.DefaultLogEvery.
	LogEvery time.Duration
}

// FIFO is the daemon's end of psplash's control FIFO.
type FIFO struct {
	path string
	f    *os.File
	fi   os.FileInfo // the FIFO opened, to remove only that one
	log  *slog.Logger
	// limited logs bad commands, which a writer sends as fast as it
	// likes, at most once per interval (set while Serve runs).
	limited *ratelog.Limiter
	every   time.Duration
}

// FIFOError says what went wrong with the FIFO, and where.
type FIFOError struct {
	Op   string
	Path string
	Err  error
}

// Error says what was tried on the FIFO, and why it failed.
func (e *FIFOError) Error() string {
	return "psplash FIFO: " + e.Op + " " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *FIFOError) Unwrap() error { return e.Err }

// Open creates the FIFO (mode 0600) unless it exists, and opens it.
func Open(opts Options) (*FIFO, error) {
	dir := opts.Dir
	if dir == "" {
		dir = Dir()
	}
	// The directory was given (or is /run): checked, never changed.
	if err := control.CheckDir(dir); err != nil {
		return nil, fmt.Errorf("psplash FIFO: %w", err)
	}
	path := filepath.Join(dir, FIFOName)
	if err := checkUnused(path); err != nil {
		return nil, err
	}
	f, err := openFIFO(path)
	if errors.Is(err, errLooseFIFO) {
		// Left by another user, or open to others: whoever can write to
		// it could drive the splash. Make a new one.
		if rerr := os.Remove(path); rerr != nil {
			return nil, &FIFOError{"replace", path, errors.Join(err, rerr)}
		}
		f, err = openFIFO(path)
	}
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &FIFOError{"stat", path, err}
	}
	return &FIFO{path: path, f: f, fi: fi, log: log, limited: ratelog.New(log, 0), every: cmp.Or(opts.LogEvery, control.DefaultLogEvery)}, nil
}

// ErrInUse says another process already reads the FIFO: a running
// psplash or bootsplash daemon.
var ErrInUse = errors.New("in use: another process (psplash, or a bootsplash daemon) reads it")

// checkUnused refuses a FIFO at path that another process has open for
// reading: both would take commands from it, and the one that quits first
// would remove it from under the other. Opening it write-only without
// blocking succeeds only when it has a reader; nothing is written.
func checkUnused(path string) error {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		return nil // none, or not a FIFO: openFIFO says so
	}
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil // ENXIO: no reader
	}
	unix.Close(fd)
	return &FIFOError{"open", path, ErrInUse}
}

// errLooseFIFO marks a FIFO found in place that this process does not own
// or that others may write to.
var errLooseFIFO = errors.New("not this user's own FIFO (mode 0600)")

// openFIFO makes the FIFO at path (0600) unless one is there, and opens
// it read-write: the daemon is a writer too, so the FIFO never reports
// end-of-file when the last script closes it. What was opened is checked,
// not the path: a FIFO of another user's, or one others may write to, is
// refused with errLooseFIFO.
func openFIFO(path string) (*os.File, error) {
	if err := unix.Mkfifo(path, 0o600); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &FIFOError{"mkfifo", path, err}
	}
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, &FIFOError{"open", path, err}
	}
	// Stat, not Fd: Fd would put the file in blocking mode, and Serve's
	// read deadline would no longer end a read.
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &FIFOError{"stat", path, err}
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode().Type() != os.ModeNamedPipe:
		f.Close()
		return nil, &FIFOError{"open", path, fmt.Errorf("exists and is not a FIFO (%v)", fi.Mode().Type())}
	case st == nil || int(st.Uid) != os.Geteuid() || fi.Mode().Perm()&0o077 != 0:
		f.Close()
		uid := -1
		if st != nil {
			uid = int(st.Uid)
		}
		return nil, &FIFOError{"open", path, fmt.Errorf("%w: owner uid %d, mode %#o", errLooseFIFO, uid, fi.Mode().Perm())}
	}
	return f, nil
}

// Path is the FIFO's file name.
func (p *FIFO) Path() string { return p.path }

// Close closes the FIFO and removes it, as psplash does when it exits;
// a file that took its place meanwhile is not this daemon's and stays.
// It is safe to call more than once.
func (p *FIFO) Close() error {
	err := p.f.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	if fi, lerr := os.Lstat(p.path); lerr != nil || !os.SameFile(fi, p.fi) {
		return err
	}
	if rerr := os.Remove(p.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// Serve reads commands and hands them to commands until ctx ends; it
// returns nil then. Commands are not answered: the FIFO is one-way.
func (p *FIFO) Serve(ctx context.Context, commands chan<- control.Command) error {
	stop := context.AfterFunc(ctx, func() { p.f.SetReadDeadline(time.Now()) })
	defer stop()
	p.limited = ratelog.New(p.log, p.every)
	defer p.limited.Stop()
	var r Reader
	buf := make([]byte, 4096)
	for {
		n, err := p.f.Read(buf)
		for _, line := range r.Feed(buf[:n]) {
			c, ok := p.parse(line)
			if !ok {
				continue
			}
			select {
			case commands <- c:
			case <-ctx.Done():
				return nil
			}
		}
		if r.Dropping() && p.drained() {
			// A command cut short without its terminator (a
			// non-blocking psplash-write the pipe took only in part)
			// ends where its writer's bytes end, so the command after
			// it is not dropped with it.
			r.EndDrop()
		}
		for _, d := range r.TakeDropped() {
			p.limited.Error("psplash: command too long, refused", "bytes", d, "max", MaxCommand)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return &FIFOError{"read", p.path, err}
		}
	}
}

// parse turns one command into a Command; ok is false for what psplash
// ignores.
func (p *FIFO) parse(line string) (c control.Command, ok bool) {
	c, err := ParseCommand(line)
	if err != nil {
		p.limited.Warn("psplash: command ignored", "cmd", line, "err", err)
		return c, false
	}
	p.log.Debug("psplash: command", "cmd", c.String())
	return c, true
}

// ParseCommand reads one psplash command (without its terminator).
func ParseCommand(line string) (control.Command, error) {
	c := control.Command{Source: "psplash"}
	if line == "QUIT" {
		c.Kind = control.Quit
		return c, nil
	}
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case "QUIT":
		c.Kind = control.Quit
	case "PROGRESS":
		n, err := strconv.Atoi(strings.TrimSpace(arg))
		if err != nil {
			return c, fmt.Errorf("PROGRESS needs a whole number, got %q", arg)
		}
		c.Kind, c.Value = control.Progress, float64(min(max(n, 0), 100))/100
	case "MSG":
		if arg == "" {
			return c, errors.New("MSG without text")
		}
		c.Kind, c.Text = control.Message, strings.ToValidUTF8(arg, "\uFFFD")
	default:
		return c, fmt.Errorf("unknown command %q", verb)
	}
	return c, nil
}

// Reader splits the FIFO's byte stream into commands, as psplash does:
// a command ends at a NUL or a newline, and empty commands are skipped.
// It holds at most MaxCommand bytes of an unfinished command.
type Reader struct {
	pending  []byte
	dropping int // bytes of an overlong command dropped so far; 0: not dropping
	dropped  []int
}

// Feed takes the next bytes and returns the commands they complete.
func (r *Reader) Feed(b []byte) []string {
	var out []string
	for len(b) > 0 {
		i := indexTerminator(b)
		if i < 0 {
			r.add(b)
			break
		}
		r.add(b[:i])
		b = b[i+1:]
		if r.dropping > 0 {
			r.dropped = append(r.dropped, r.dropping)
			r.dropping = 0
			continue
		}
		if len(r.pending) > 0 {
			out = append(out, string(r.pending))
			r.pending = r.pending[:0]
		}
	}
	return out
}

// add appends to the unfinished command, or drops it once it is too long.
func (r *Reader) add(b []byte) {
	if r.dropping > 0 {
		r.dropping += len(b)
		return
	}
	if len(r.pending)+len(b) > MaxCommand {
		r.dropping = len(r.pending) + len(b)
		r.pending = r.pending[:0]
		return
	}
	r.pending = append(r.pending, b...)
}

// Dropping reports whether the reader is in the middle of an overlong
// command, dropping bytes until its terminator.
func (r *Reader) Dropping() bool { return r.dropping > 0 }

// EndDrop ends an overlong command that lacks its terminator where the
// bytes fed so far end: what comes next starts a new command.
func (r *Reader) EndDrop() {
	if r.dropping > 0 {
		r.dropped = append(r.dropped, r.dropping)
		r.dropping = 0
	}
}

// TakeDropped returns the sizes of the overlong commands dropped since the
// last call.
func (r *Reader) TakeDropped() []int {
	d := r.dropped
	r.dropped = nil
	return d
}

func indexTerminator(b []byte) int {
	for i, c := range b {
		if c == 0 || c == '\n' {
			return i
		}
	}
	return -1
}
