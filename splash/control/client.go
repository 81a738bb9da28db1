package control

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client is a connection to a daemon's native control socket, as
// `bootsplash ctl` uses it.
type Client struct {
	path string
	c    net.Conn
	r    *bufio.Reader
}

// DialError says no daemon answered at a socket.
type DialError struct {
	Path string
	Err  error
}

// Error says which socket had no daemon and why, or that this user may
// not reach it.
func (e *DialError) Error() string {
	if errors.Is(e.Err, ErrBusy) {
		return "the bootsplash daemon at " + e.Path + " is busy: " + strings.TrimPrefix(strings.TrimPrefix(e.Err.Error(), ErrBusy.Error()), ": ")
	}
	if errors.Is(e.Err, os.ErrPermission) {
		return "may not connect to the bootsplash daemon at " + e.Path + ": " + e.Err.Error() +
			" (only root and the daemon's user may use its socket)"
	}
	return "no bootsplash daemon at " + e.Path + ": " + e.Err.Error()
}

// Unwrap returns the cause (for a missing socket, a *os.SyscallError
// wrapping ENOENT, which matches os.ErrNotExist).
func (e *DialError) Unwrap() error { return e.Err }

// ReplyError is a request the daemon refused, with its reason.
type ReplyError struct {
	Request string
	Reason  string
}

// Error is the request and the daemon's reason.
func (e *ReplyError) Error() string { return e.Request + ": " + e.Reason }

// ProtocolError is a reply the client could not understand or read.
type ProtocolError struct {
	Path string
	What string
	// Err is the cause, if any.
	Err error
}

// Error says what the client could not understand.
func (e *ProtocolError) Error() string { return "control protocol on " + e.Path + ": " + e.What }

// Unwrap returns the cause.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Dial connects to the daemon at path ("" for DefaultSocket) and checks
// that it speaks this protocol version. A daemon busy with as many
// clients as it serves is asked again until ctx ends, if ctx has a
// deadline; then the error matches ErrBusy. It gives up when ctx ends.
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		path = DefaultSocket
	}
	_, retry := ctx.Deadline()
	wait := 20 * time.Millisecond
	var busy error
	for {
		cl, err := dial(ctx, path)
		if err != nil && busy != nil && ctx.Err() != nil {
			return nil, busy // what the daemon said, not the end of the wait
		}
		if !retry || !errors.Is(err, ErrBusy) {
			return cl, err
		}
		busy = err
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

func dial(ctx context.Context, path string) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			err = op.Err
		}
		return nil, &DialError{Path: path, Err: err}
	}
	cl := &Client{path: path, c: c, r: bufio.NewReaderSize(c, MaxLine)}
	stop := cl.deadline(ctx)
	defer stop()
	line, err := cl.readLine()
	if err != nil {
		c.Close()
		if closedEarly(err) {
			// Daemons before the busy reply closed a client over their
			// limit without a word.
			return nil, &DialError{Path: path, Err: fmt.Errorf("%w: it closed the connection before its greeting (too many clients?)", ErrBusy)}
		}
		return nil, err
	}
	if rest, ok := strings.CutPrefix(line, "err "); ok {
		c.Close()
		if why, ok := strings.CutPrefix(rest, ErrBusy.Error()); ok {
			return nil, &DialError{Path: path, Err: fmt.Errorf("%w%s", ErrBusy, why)}
		}
		return nil, &ReplyError{Request: "connect to " + path, Reason: rest}
	}
	name, ver, _ := strings.Cut(line, " ")
	if name != greeting {
		c.Close()
		return nil, &ProtocolError{path, fmt.Sprintf("unexpected greeting %q", line), nil}
	}
	if v, err := strconv.Atoi(ver); err != nil || v != Version {
		c.Close()
		return nil, &ProtocolError{path, fmt.Sprintf("daemon speaks version %q, this client %d", ver, Version), nil}
	}
	return cl, nil
}

// closedEarly reports whether err is the daemon closing the connection.
func closedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// deadline makes reads and writes fail when ctx ends; the returned func
// stops that.
func (cl *Client) deadline(ctx context.Context) func() {
	if d, ok := ctx.Deadline(); ok {
		cl.c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { cl.c.SetDeadline(time.Now()) })
	return func() {
		stop()
		cl.c.SetDeadline(time.Time{})
	}
}

func (cl *Client) readLine() (string, error) {
	line, err := cl.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", &ProtocolError{cl.path, fmt.Sprintf("reply longer than %d bytes", MaxLine), nil}
	}
	if err != nil {
		return "", &ProtocolError{cl.path, fmt.Sprintf("reading the reply: %v", err), err}
	}
	return strings.TrimSuffix(string(line), "\n"), nil
}

// Do sends one request and waits for its reply. A refusal is a
// *ReplyError; c.Reply is not used.
func (cl *Client) Do(ctx context.Context, c Command) error {
	line, err := FormatRequest(c)
	if err != nil {
		return err
	}
	stop := cl.deadline(ctx)
	defer stop()
	_, werr := cl.c.Write([]byte(line + "\n"))
	reply, err := cl.readLine()
	if err != nil && werr != nil {
		// The daemon said why it closed the connection, if it did.
		return &ProtocolError{cl.path, fmt.Sprintf("sending %s: %v", c.Kind, werr), werr}
	}
	if err != nil {
		if closedEarly(err) {
			return &ProtocolError{cl.path, fmt.Sprintf("sending %s: the daemon closed the connection", c.Kind), err}
		}
		return err
	}
	if reply == "ok" {
		return nil
	}
	if reason, ok := strings.CutPrefix(reply, "err "); ok {
		return &ReplyError{Request: c.Kind.String(), Reason: reason}
	}
	return &ProtocolError{cl.path, fmt.Sprintf("unexpected reply %q", reply), nil}
}

// Ask sends a question (a Kind that Asks) and waits for its answer,
// which the caller zeroes after use. The daemon's refusal or the
// question's cancellation is a *ReplyError whose Reason says so.
func (cl *Client) Ask(ctx context.Context, c Command) ([]byte, error) {
	if !c.Kind.Asks() {
		return nil, fmt.Errorf("%s is not a question", c.Kind)
	}
	line, err := FormatRequest(c)
	if err != nil {
		return nil, err
	}
	stop := cl.deadline(ctx)
	defer stop()
	if _, err := cl.c.Write([]byte(line + "\n")); err != nil {
		return nil, &ProtocolError{cl.path, fmt.Sprintf("sending %s: %v", c.Kind, err), err}
	}
	raw, err := cl.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, &ProtocolError{cl.path, fmt.Sprintf("reply longer than %d bytes", MaxLine), nil}
	}
	if err != nil {
		if closedEarly(err) {
			return nil, &ProtocolError{cl.path, fmt.Sprintf("sending %s: the daemon closed the connection", c.Kind), err}
		}
		return nil, &ProtocolError{cl.path, fmt.Sprintf("reading the reply: %v", err), err}
	}
	// raw is the reader's buffer: it is overwritten by the next read, and
	// zeroed here once the answer is copied out.
	defer clear(raw)
	body := bytes.TrimSuffix(raw, []byte("\n"))
	if text, ok := bytes.CutPrefix(body, []byte("answer ")); ok {
		return ParseAnswer(text)
	}
	if reason, ok := bytes.CutPrefix(body, []byte("err ")); ok {
		return nil, &ReplyError{Request: c.Kind.String(), Reason: string(reason)}
	}
	return nil, &ProtocolError{cl.path, "unexpected reply to a question", nil}
}

// Close ends the connection.
func (cl *Client) Close() error { return cl.c.Close() }
