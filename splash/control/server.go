package control

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bootsplash/bootsplash/splash/internal/ratelog"
)

// DefaultSocket is where the daemon listens and `bootsplash ctl` connects
// unless told otherwise.
const DefaultSocket = "/run/bootsplash/control"

// Version is the native protocol's version, sent in the greeting.
const Version = 1

// greeting is the server's first line; a client checks the version in it.
const greeting = "bootsplash-control"

// MaxLine is the longest request or reply line, '\n' included.
const MaxLine = 4096

// ServerOptions tunes a native Server.
type ServerOptions struct {
	// AllowUIDs are the users that may connect; nil allows root and the
	// user the daemon runs as.
	AllowUIDs []uint32
	// MaxConns bounds the clients served at once; 0 means DefaultMaxConns.
	MaxConns int
	// IdleTimeout bounds the wait for a client's next request; 0 means
	// DefaultIdleTimeout.
	IdleTimeout time.Duration
	// RequestTimeout bounds the wait for the rest of a request line once
	// it has begun; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// LogEvery is how often at most one kind of refusal is logged; 0
	// means DefaultLogEvery.
	LogEvery time.Duration
	// Log receives refusals and client errors; nil discards them.
	Log *slog.Logger
}

// Server is the daemon's end of the native control socket.
type Server struct {
	path string
	ln   *net.UnixListener
	opts ServerOptions
	log  *slog.Logger
}

// SocketError says what went wrong setting up a control socket, and where.
type SocketError struct {
	Op   string
	Path string
	Err  error
}

// Error says what was tried on which path, and why it failed.
func (e *SocketError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *SocketError) Unwrap() error { return e.Err }

// ErrRunning says another daemon already answers on the socket.
var ErrRunning = errors.New("a bootsplash daemon is already listening there")

// Listen creates the control socket at path with mode 0600. A directory
// it creates for it is made 0700; one it was given is checked, not
// changed (MakeDir). A stale socket left by a daemon that died is
// replaced if it is this user's; a live one is an error wrapping
// ErrRunning.
func Listen(path string, opts ServerOptions) (*Server, error) {
	if path == "" {
		path = DefaultSocket
	}
	if err := MakeDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, &SocketError{"listen", path, fmt.Errorf("exists and is not a socket (%v)", fi.Mode().Type())}
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, &SocketError{"listen", path, ErrRunning}
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
			return nil, &SocketError{"listen", path, fmt.Errorf("a stale socket of uid %d is there; not removing what is not this user's", st.Uid)}
		}
		if err := os.Remove(path); err != nil {
			return nil, &SocketError{"remove stale socket", path, err}
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, socketError("listen", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, &SocketError{"chmod 0600", path, err}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{path: path, ln: ln, opts: opts, log: log}, nil
}

// socketError is a SocketError; a refusal also says what a user who may
// not create the socket there can do.
func socketError(op, path string, err error) error {
	if errors.Is(err, os.ErrPermission) {
		err = fmt.Errorf("%w (this user may not create the socket there: run as root, or give a path it may create with --socket, \"\" for none)", err)
	}
	return &SocketError{op, path, err}
}

// Path is the socket's file name.
func (s *Server) Path() string { return s.path }

// Close stops listening and removes the socket. It is safe to call more
// than once and after Serve.
func (s *Server) Close() error {
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Serve answers clients, handing their requests to commands, until ctx
// ends. It returns nil then, after every client handler has returned.
func (s *Server) Serve(ctx context.Context, commands chan<- Command) error {
	// Bad requests come as fast as clients send them: each kind is
	// logged at most once per interval.
	limited := ratelog.New(s.log, cmp.Or(s.opts.LogEvery, DefaultLogEvery))
	defer limited.Stop()
	a := &Acceptor{
		Listener:       s.ln,
		AllowUIDs:      s.opts.AllowUIDs,
		MaxConns:       s.opts.MaxConns,
		IdleTimeout:    s.opts.IdleTimeout,
		RequestTimeout: s.opts.RequestTimeout,
		LogEvery:       s.opts.LogEvery,
		Log:            s.log,
		Refuse: func(c *net.UnixConn, err error) {
			WriteReply(c, []byte(replyLine(err)))
		},
		Notice: func(c *net.UnixConn, err error) {
			WriteReply(c, []byte(replyLine(err)))
		},
		Handle: func(ctx context.Context, c *Conn, p Peer) {
			s.handle(ctx, c, p, commands, limited)
		},
	}
	return a.Serve(ctx)
}

func (s *Server) handle(ctx context.Context, c *Conn, p Peer, commands chan<- Command, limited *ratelog.Limiter) {
	log := s.log.With("peer_pid", p.PID, "peer_uid", p.UID)
	if err := WriteReply(c, fmt.Appendf(nil, "%s %d\n", greeting, Version)); err != nil {
		return
	}
	r := bufio.NewReaderSize(c, MaxLine)
	for ctx.Err() == nil {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			limited.Warn("control: request line too long, closing the connection", "peer_pid", p.PID, "peer_uid", p.UID, "max", MaxLine)
			WriteReply(c, fmt.Appendf(nil, "err line too long (more than %d bytes)\n", MaxLine))
			return
		}
		if err != nil {
			return // EOF, a timeout, or the server is stopping
		}
		if !c.Busy() {
			return
		}
		text := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		cmd, err := ParseRequest(text)
		if err == nil && cmd.Kind == CachedPasswords {
			err = errors.New("cached-passwords is plymouth's; the native protocol does not hand out passwords")
		}
		if err == nil && cmd.Kind.Asks() {
			log.Debug("control: question", "cmd", cmd.String())
			if !ask(ctx, c, commands, cmd) {
				return
			}
			continue
		}
		if err == nil {
			log.Debug("control: request", "cmd", cmd.String())
			err = Send(ctx, commands, cmd)
		}
		if WriteReply(c, []byte(replyLine(err))) != nil {
			return
		}
	}
}

// ask hands a question to the daemon and sends its answer to the client
// that asked, and to no one else. The question is dropped if the client
// hangs up first. It reports whether the connection is still usable.
func ask(ctx context.Context, c *Conn, commands chan<- Command, cmd Command) bool {
	gone, stop := WhileConnected(ctx, c.UnixConn)
	res := &Result{}
	cmd.Result, cmd.Asker = res, gone
	err := Send(gone, commands, cmd)
	left := gone.Err() != nil && ctx.Err() == nil
	stop()
	defer res.Zero()
	if err != nil {
		if left {
			return false // the asker left
		}
		return WriteReply(c, []byte(replyLine(err))) == nil
	}
	line := AppendAnswer(make([]byte, 0, len(res.Answer)*2+8), res.Answer)
	defer clear(line)
	return WriteReply(c, line) == nil
}

// replyLine is the reply to a request that ended with err.
func replyLine(err error) string {
	if err == nil {
		return "ok\n"
	}
	reason := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0 {
			return ' '
		}
		return r
	}, err.Error())
	if len(reason) > MaxLine-5 {
		reason = reason[:MaxLine-5]
	}
	return "err " + reason + "\n"
}
