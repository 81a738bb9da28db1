package plymouth

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/internal/ratelog"
)

// SocketName is the abstract socket plymouthd listens on, without the
// leading NUL.
const SocketName = "/org/freedesktop/plymouthd"

// Replies, one byte each.
const (
	ack             = 0x06
	nak             = 0x15
	noAnswer        = 0x05
	answerReply     = 0x02 // then a little-endian uint32 size and the answer
	multipleAnswers = 0x09 // then a size and NUL-terminated answers
)

// argumentMarker is the second byte of a request that carries an argument.
const argumentMarker = 0x02

// Options tunes a Server.
type Options struct {
	// Name is the abstract socket's name without the leading NUL; ""
	// means SocketName. Tests may use another name; the plymouth client
	// only knows SocketName.
	Name string
	// AllowUIDs are the users that may talk to the splash; nil allows
	// root and the user the daemon runs as.
	AllowUIDs []uint32
	// MaxConns bounds the clients served at once; 0 means
	// control.DefaultMaxConns.
	MaxConns int
	// IdleTimeout bounds the wait for a client's next request; 0 means
	// none, as plymouthd: `plymouth --wait` holds its connection, sending
	// nothing, until the daemon quits. An idle client is still closed to
	// make room when MaxConns are connected.
	IdleTimeout time.Duration
	// RequestTimeout bounds the wait for the rest of a request once its
	// first byte has come; 0 means control.DefaultRequestTimeout.
	RequestTimeout time.Duration
	// LogEvery is how often at most one kind of refusal is logged; 0
	// means control.DefaultLogEvery.
	LogEvery time.Duration
	// Log receives refusals, ignored requests and client errors; nil
	// discards them.
	Log *slog.Logger
}

// Server is the daemon's end of plymouth's boot protocol.
type Server struct {
	name string
	ln   *net.UnixListener
	opts Options
	log  *slog.Logger
}

// ListenError says the plymouth socket could not be set up.
type ListenError struct {
	Name string
	Err  error
}

// Error names the socket and the cause.
func (e *ListenError) Error() string {
	return fmt.Sprintf("plymouth: listen on abstract socket @%s: %v", e.Name, e.Err)
}

// Unwrap returns the cause (EADDRINUSE when plymouthd or another
// bootsplash already listens).
func (e *ListenError) Unwrap() error { return e.Err }

// Listen opens the abstract socket. It fails if plymouthd (or another
// daemon) already listens there.
func Listen(opts Options) (*Server, error) {
	name := opts.Name
	if name == "" {
		name = SocketName
	}
	// Go writes a leading '@' as the NUL of an abstract address and sizes
	// the address to the name: plymouth's "trimmed" abstract socket.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: "@" + name, Net: "unix"})
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, &ListenError{Name: name, Err: err}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{name: name, ln: ln, opts: opts, log: log}, nil
}

// Name is the abstract socket's name, without the leading NUL.
func (s *Server) Name() string { return s.name }

// Close stops listening. It is safe to call more than once and after
// Serve.
func (s *Server) Close() error {
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// Serve answers plymouth clients, handing their requests to commands,
// until ctx ends; it returns nil then, after every client handler has
// returned.
func (s *Server) Serve(ctx context.Context, commands chan<- control.Command) error {
	// Bad requests come as fast as a client sends them: each kind is
	// logged at most once per interval.
	limited := ratelog.New(s.log, cmp.Or(s.opts.LogEvery, control.DefaultLogEvery))
	defer limited.Stop()
	a := &control.Acceptor{
		Listener:       s.ln,
		AllowUIDs:      s.opts.AllowUIDs,
		MaxConns:       s.opts.MaxConns,
		IdleTimeout:    cmp.Or(s.opts.IdleTimeout, -1),
		RequestTimeout: s.opts.RequestTimeout,
		LogEvery:       s.opts.LogEvery,
		Log:            s.log,
		// plymouthd reads the request before it refuses; the client only
		// needs the NAK, which it reads after sending.
		Refuse: func(c *net.UnixConn, err error) { control.WriteReply(c, []byte{nak}) },
		Handle: func(ctx context.Context, c *control.Conn, p control.Peer) {
			s.handle(ctx, c, p, commands, limited)
		},
	}
	return a.Serve(ctx)
}

// Request is one decoded plymouth request.
type Request struct {
	// Type is the request letter ('P', 'U', 'Q', ...).
	Type byte
	// Argument is the argument without its NUL; HasArgument says whether
	// there was one at all.
	Argument    string
	HasArgument bool
}

// RequestError is a request that breaks the wire format; the stream
// cannot be trusted after it.
type RequestError struct {
	What string
}

// Error says how the request breaks the format.
func (e *RequestError) Error() string { return "malformed plymouth request: " + e.What }

// ReadRequest reads one request. It never reads more than the format
// allows (258 bytes). io.EOF means the client left between requests.
func ReadRequest(r *bufio.Reader) (Request, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Request{}, &RequestError{"truncated header"}
		}
		return Request{}, err // io.EOF, or the server stopping
	}
	req := Request{Type: hdr[0]}
	switch hdr[1] {
	case 0:
		return req, nil
	case argumentMarker:
	default:
		return req, &RequestError{fmt.Sprintf("request %q: byte 0x%02x after the request letter, want 0x00 or 0x02", hdr[0], hdr[1])}
	}
	n, err := r.ReadByte()
	if err != nil {
		if err == io.EOF {
			return req, &RequestError{fmt.Sprintf("request %q: no argument size", hdr[0])}
		}
		return req, err
	}
	if n == 0 {
		return req, &RequestError{fmt.Sprintf("request %q: argument of size 0 (an argument ends with a NUL)", hdr[0])}
	}
	arg := make([]byte, n)
	if got, err := io.ReadFull(r, arg); err != nil {
		if err != io.ErrUnexpectedEOF && err != io.EOF {
			return req, err
		}
		return req, &RequestError{fmt.Sprintf("request %q: argument cut short after %d of %d bytes", hdr[0], got, n)}
	}
	if arg[n-1] != 0 {
		return req, &RequestError{fmt.Sprintf("request %q: argument of %d bytes not NUL-terminated", hdr[0], n)}
	}
	req.Argument, req.HasArgument = string(arg[:n-1]), true
	return req, nil
}

// maxRequest is the longest request: letter, marker, size, 255 bytes.
const maxRequest = 3 + 255

func (s *Server) handle(ctx context.Context, c *control.Conn, p control.Peer, commands chan<- control.Command, limited *ratelog.Limiter) {
	log := s.log.With("peer_pid", p.PID, "peer_uid", p.UID)
	peer := []any{"peer_pid", p.PID, "peer_uid", p.UID}
	r := bufio.NewReaderSize(c, maxRequest)
	for ctx.Err() == nil {
		req, err := ReadRequest(r)
		if err != nil {
			var re *RequestError
			if errors.As(err, &re) {
				limited.Warn("plymouth: closing a client", append(peer, "err", err)...)
				control.WriteReply(c, []byte{nak})
			}
			return
		}
		if !c.Busy() {
			return
		}
		if isQuestion(req.Type) {
			if !s.ask(ctx, log, c, req, commands) {
				return
			}
			continue
		}
		reply := s.answer(ctx, log, limited, peer, req, commands)
		if control.WriteReply(c, []byte{reply}) != nil {
			return
		}
	}
}

// isQuestion reports whether a request is answered once someone types
// the answer.
func isQuestion(t byte) bool { return t == '*' || t == 'c' || t == 'W' || t == 'K' }

// ask hands a question to the daemon and writes its answer, as plymouthd
// does: ANSWER with the size and the text, MULTIPLE_ANSWERS for the
// cached passwords, NO_ANSWER when the splash cannot ask (the client then
// asks on its own), and for a question cancelled with Ctrl+C the answer
// "\x03", which the client takes as cancelled. The answer goes to this
// connection only and its bytes are zeroed once written. A client that
// hangs up drops its question. It reports whether the connection is still
// usable.
func (s *Server) ask(ctx context.Context, log *slog.Logger, c *control.Conn, req Request, commands chan<- control.Command) bool {
	cmd := control.Command{Source: "plymouth", Client: c}
	switch req.Type {
	case '*':
		cmd.Kind, cmd.Text = control.AskPassword, strings.ToValidUTF8(req.Argument, "\uFFFD")
	case 'W':
		cmd.Kind, cmd.Text = control.AskQuestion, strings.ToValidUTF8(req.Argument, "\uFFFD")
	case 'K':
		cmd.Kind, cmd.Keys = control.WatchKeystroke, req.Argument
	case 'c':
		cmd.Kind = control.CachedPasswords
	}
	gone, stop := control.WhileConnected(ctx, c.UnixConn)
	res := &control.Result{}
	defer res.Zero()
	cmd.Result, cmd.Asker = res, gone
	err := control.Send(gone, commands, cmd)
	left := gone.Err() != nil && ctx.Err() == nil
	stop()
	if left && err != nil {
		return false // the client left; its question was dropped
	}
	var reply []byte
	switch {
	case err == nil && cmd.Kind == control.CachedPasswords:
		n := 0
		for _, a := range res.Answers {
			n += len(a) + 1
		}
		reply = binary.LittleEndian.AppendUint32(append(make([]byte, 0, 5+n), multipleAnswers), uint32(n))
		for _, a := range res.Answers {
			reply = append(append(reply, a...), 0)
		}
	case err == nil:
		reply = answerBytes(res.Answer)
	case errors.Is(err, control.ErrCancelled):
		reply = answerBytes([]byte{0x03})
	case errors.Is(err, control.ErrNoAnswer):
		reply = []byte{noAnswer}
	default:
		log.Debug("plymouth: question refused", "request", string(req.Type), "err", err)
		reply = []byte{nak}
	}
	defer clear(reply)
	return control.WriteReply(c, reply) == nil
}

// answerBytes is the ANSWER reply carrying a.
func answerBytes(a []byte) []byte {
	b := binary.LittleEndian.AppendUint32(append(make([]byte, 0, 5+len(a)), answerReply), uint32(len(a)))
	return append(b, a...)
}

// answer carries out one request and returns the reply byte.
// Bad requests are logged through limited, with the peer's args.
func (s *Server) answer(ctx context.Context, log *slog.Logger, limited *ratelog.Limiter, peer []any, req Request, commands chan<- control.Command) byte {
	do := func(c control.Command) error {
		c.Source = "plymouth"
		c.Text = strings.ToValidUTF8(c.Text, "\uFFFD")
		return control.Send(ctx, commands, c)
	}
	result := func(err error) byte {
		if err != nil {
			log.Debug("plymouth: refused", "request", string(req.Type), "err", err)
			return nak
		}
		return ack
	}
	switch req.Type {
	case 'P':
		return result(do(control.Command{Kind: control.Ping}))
	case 'U':
		return result(do(control.Command{Kind: control.Status, Text: req.Argument}))
	case 'u':
		pct, err := strconv.Atoi(req.Argument)
		if err != nil || pct < 0 || pct > 100 {
			limited.Warn("plymouth: system-update progress is not a percentage", append(peer, "argument", req.Argument)...)
			return nak
		}
		return result(do(control.Command{Kind: control.SystemUpdate, Value: float64(pct) / 100}))
	case 'D':
		return result(do(control.Command{Kind: control.Deactivate}))
	case 'r':
		err := do(control.Command{Kind: control.Reactivate})
		if errors.Is(err, control.ErrNotDeactivated) {
			err = nil // plymouthd ignores a reactivate it does not need
		}
		return result(err)
	case 'Q':
		retain := req.HasArgument && len(req.Argument) > 0 && req.Argument[0] != 0
		return result(do(control.Command{Kind: control.Quit, Retain: retain}))
	case 'M':
		return result(do(control.Command{Kind: control.Message, Text: req.Argument}))
	case 'm':
		return result(do(control.Command{Kind: control.HideMessage, Text: req.Argument}))
	case '$':
		return result(do(control.Command{Kind: control.Show}))
	case 'H':
		return result(do(control.Command{Kind: control.Hide}))
	case 'V':
		return result(do(control.Command{Kind: control.HasActiveVT}))
	case 'L':
		return result(do(control.Command{Kind: control.IgnoreKeystroke, Keys: req.Argument}))
	case 'A':
		return result(do(control.Command{Kind: control.PauseProgress}))
	case 'a':
		return result(do(control.Command{Kind: control.UnpauseProgress}))
	case 'S':
		return result(do(control.Command{Kind: control.SystemInitialized}))
	case 'C', 'R', '!':
		log.Debug("plymouth: request acknowledged and ignored", "request", string(req.Type), "argument", req.Argument)
		return ack
	}
	limited.Warn("plymouth: unknown request", append(peer, "request", fmt.Sprintf("%q", req.Type))...)
	return nak
}
