package control

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/bootsplash/bootsplash/splash/internal/ratelog"
)

// Peer is the process at the other end of a unix socket, as the kernel
// recorded it when the process connected (SO_PEERCRED).
type Peer struct {
	PID      int32
	UID, GID uint32
}

// PeerError refuses a peer whose user may not control the splash.
type PeerError struct {
	Peer Peer
}

// Error names the refused user and process.
func (e *PeerError) Error() string {
	return fmt.Sprintf("permission denied: uid %d (pid %d) may not control the splash", e.Peer.UID, e.Peer.PID)
}

// Unwrap makes a PeerError match os.ErrPermission.
func (e *PeerError) Unwrap() error { return os.ErrPermission }

// DefaultMaxConns is how many clients a socket front end serves at once
// unless told otherwise. A new client beyond it takes the place of the
// client that has waited longest for its next request; while every
// client is in the middle of a request, new ones are refused.
const DefaultMaxConns = 32

// DefaultIdleTimeout is how long a client may wait between requests
// before it is closed, unless told otherwise.
const DefaultIdleTimeout = time.Minute

// DefaultRequestTimeout is how long a request may take to arrive once its
// first byte has, unless told otherwise: a client that sends half a
// request and stalls is closed after it.
const DefaultRequestTimeout = 5 * time.Second

// DefaultLogEvery is how often at most the same kind of refusal is logged;
// the ones in between are counted and said in the next line.
const DefaultLogEvery = 10 * time.Second

// replyTimeout bounds how long a front end waits for a client to take a
// reply before it gives up on the client.
const replyTimeout = 2 * time.Second

// ErrBusy says the daemon serves as many clients as it may, all of them
// in the middle of a request: try again.
var ErrBusy = errors.New("daemon busy")

// Why the Acceptor ended a client.
var (
	// ErrIdle: the client sent no request for its idle timeout.
	ErrIdle = errors.New("closed: no request for too long")
	// ErrStalled: the client began a request and did not finish it in
	// time.
	ErrStalled = errors.New("closed: request not finished in time")
	// ErrEvicted: the client waited longest for its next request when a
	// new client came and all places were taken.
	ErrEvicted = errors.New("closed to make room for a new client")
	// errStopping: the front end is stopping.
	errStopping = errors.New("closed: the daemon is stopping")
)

// Acceptor is the part the socket front ends share: it accepts clients,
// lets in only the users it allows, bounds their number and how long
// they may keep a request waiting, and runs one handler per client until
// its context ends. When it stops it unblocks every handler's reads (not
// its writes, so an answer that is already on its way, such as quit's,
// still reaches the client) and waits for all of them.
type Acceptor struct {
	// Listener is where clients connect; Serve closes it when it returns.
	Listener *net.UnixListener
	// AllowUIDs are the users that may connect; nil allows root and the
	// user the daemon runs as.
	AllowUIDs []uint32
	// MaxConns bounds the clients served at once; 0 means DefaultMaxConns.
	MaxConns int
	// IdleTimeout bounds the wait for a client's next request; 0 means
	// DefaultIdleTimeout, a negative value no bound (the client may still
	// be closed to make room for a new one).
	IdleTimeout time.Duration
	// RequestTimeout bounds the wait for the rest of a request once it
	// has begun; 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// LogEvery is how often at most one kind of refusal is logged; 0
	// means DefaultLogEvery.
	LogEvery time.Duration
	// Log receives refusals and client errors; nil discards them.
	Log *slog.Logger
	// Refuse, if not nil, tells a refused peer why in the protocol's
	// words before the connection is closed.
	Refuse func(c *net.UnixConn, err error)
	// Notice, if not nil, tells a client the Acceptor ends (ErrIdle,
	// ErrStalled, ErrEvicted) why, in the protocol's words, before the
	// connection is closed.
	Notice func(c *net.UnixConn, err error)
	// Handle serves one client; it returns when the client leaves, a read
	// fails, or ctx ends. It calls c.Busy after reading each whole
	// request. The Acceptor closes c afterwards.
	Handle func(ctx context.Context, c *Conn, p Peer)
}

// Allowed reports whether uid may connect.
func (a *Acceptor) Allowed(uid uint32) bool {
	if a.AllowUIDs == nil {
		return uid == 0 || uid == uint32(os.Getuid())
	}
	return slices.Contains(a.AllowUIDs, uid)
}

// Conn is one client's connection as its handler reads it. Reads are
// bounded: the wait for a request by the idle timeout, the rest of a
// request once begun by the request timeout. Between a whole request
// (Busy) and the next read the client is busy and is not closed to make
// room; while it waits for a request it may be.
type Conn struct {
	*net.UnixConn
	idle, request time.Duration

	mu    sync.Mutex
	state connState
	since time.Time // when it began waiting
	ended error     // why the Acceptor ended it
}

type connState int

const (
	waiting connState = iota // for the first byte of a request
	partial                  // for the rest of one
	busy                     // handling one
)

// Read reads from the client within the time allowed.
func (c *Conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.ended != nil {
		c.mu.Unlock()
		return 0, c.ended
	}
	if c.state == busy {
		c.wait(time.Now())
	}
	c.mu.Unlock()
	n, err := c.UnixConn.Read(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > 0 && c.state == waiting && c.ended == nil {
		c.state = partial
		c.UnixConn.SetReadDeadline(time.Now().Add(c.request))
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.ended == nil {
		c.ended = ErrIdle
		if c.state == partial {
			c.ended = ErrStalled
		}
	}
	if err != nil && c.ended != nil {
		err = c.ended
	}
	return n, err
}

// wait starts the wait for a request; c.mu is held.
func (c *Conn) wait(now time.Time) {
	c.state, c.since = waiting, now
	if c.idle > 0 {
		c.UnixConn.SetReadDeadline(now.Add(c.idle))
	} else {
		c.UnixConn.SetReadDeadline(time.Time{})
	}
}

// Busy marks the request just read as being handled: the client is not
// closed to make room until it reads again. It returns false if the
// Acceptor has already ended the client; the request is then not to be
// carried out.
func (c *Conn) Busy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != nil {
		return false
	}
	c.state = busy
	return true
}

// end ends the client for why, unblocking its reads. Unless force, a
// client handling a request is left alone and end returns false.
func (c *Conn) end(why error, force bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != nil {
		return true
	}
	if c.state == busy && !force {
		return false
	}
	c.ended = why
	c.UnixConn.SetReadDeadline(time.Now())
	return true
}

func (c *Conn) endedBy() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// Serve accepts clients until ctx ends or the listener fails. It returns
// nil when ctx ended, after every handler has returned.
func (a *Acceptor) Serve(ctx context.Context) error {
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	max := cmp.Or(a.MaxConns, DefaultMaxConns)
	idle := cmp.Or(a.IdleTimeout, DefaultIdleTimeout)
	request := cmp.Or(a.RequestTimeout, DefaultRequestTimeout)
	limited := ratelog.New(log, cmp.Or(a.LogEvery, DefaultLogEvery))
	defer limited.Stop()
	socket := a.Listener.Addr().String()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopListening := context.AfterFunc(ctx, func() { a.Listener.Close() })
	defer stopListening()

	var (
		mu    sync.Mutex
		conns = map[*Conn]bool{}
		wg    sync.WaitGroup
	)
	// makeRoom ends the client that has waited longest: a half-sent
	// request before an idle client. c.mu of none is held.
	makeRoom := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for len(conns) > 0 {
			var oldest *Conn
			var oldestState connState
			var oldestSince time.Time
			for c := range conns {
				c.mu.Lock()
				st, since := c.state, c.since
				c.mu.Unlock()
				if st == busy {
					continue
				}
				if oldest == nil || st > oldestState || (st == oldestState && since.Before(oldestSince)) {
					oldest, oldestState, oldestSince = c, st, since
				}
			}
			if oldest == nil {
				return false
			}
			if oldest.end(ErrEvicted, false) {
				delete(conns, oldest)
				return true
			}
		}
		return false
	}
	var err error
	for {
		var uc *net.UnixConn
		uc, err = a.Listener.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				err = nil
			} else if errors.Is(err, net.ErrClosed) {
				err = nil
			} else {
				err = fmt.Errorf("accept on %s: %w", a.Listener.Addr(), err)
			}
			break
		}
		refuse := func(err error) {
			if a.Refuse != nil {
				uc.SetWriteDeadline(time.Now().Add(replyTimeout))
				a.Refuse(uc, err)
			}
			uc.Close()
		}
		// The peer first: a user not allowed takes nobody's place.
		p, perr := PeerOf(uc)
		if perr == nil && !a.Allowed(p.UID) {
			perr = &PeerError{Peer: p}
		}
		if perr != nil {
			limited.Warn("control: refused a client", "socket", socket, "err", perr)
			refuse(perr)
			continue
		}
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n >= max {
			if !makeRoom() {
				limited.Warn("control: too many clients, all in the middle of a request: refused a new one", "socket", socket, "max", max)
				refuse(fmt.Errorf("%w: %d clients are being served, none of them idle (try again)", ErrBusy, max))
				continue
			}
			limited.Warn("control: too many clients: closed the one that waited longest for a new one", "socket", socket, "max", max)
		}
		c := &Conn{UnixConn: uc, idle: idle, request: request}
		c.wait(time.Now())
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				if why := c.endedBy(); why != nil && why != errStopping {
					if why != ErrEvicted {
						limited.Warn("control: "+why.Error(), "socket", socket)
					}
					if a.Notice != nil {
						c.SetWriteDeadline(time.Now().Add(replyTimeout))
						a.Notice(uc, why)
					}
				}
				uc.Close()
			}()
			a.Handle(ctx, c, p)
		}()
	}
	cancel()
	a.Listener.Close()
	mu.Lock()
	for c := range conns {
		c.end(errStopping, true)
	}
	mu.Unlock()
	wg.Wait()
	return err
}

// WriteReply writes b to c within a bounded time, so a client that stops
// reading cannot hold a handler forever.
func WriteReply(c net.Conn, b []byte) error {
	c.SetWriteDeadline(time.Now().Add(replyTimeout))
	_, err := c.Write(b)
	return err
}
