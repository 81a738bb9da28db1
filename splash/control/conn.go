package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"
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
// unless told otherwise; more are closed as soon as they connect.
const DefaultMaxConns = 32

// replyTimeout bounds how long a front end waits for a client to take a
// reply before it gives up on the client.
const replyTimeout = 2 * time.Second

// Acceptor is the part the socket front ends share: it accepts clients,
// lets in only the users it allows, bounds their number, and runs one
// handler per client until its context ends. When it stops it unblocks
// every handler's reads (not its writes, so an answer that is already on
// its way, such as quit's, still reaches the client) and waits for all of
// them.
type Acceptor struct {
	// Listener is where clients connect; Serve closes it when it returns.
	Listener *net.UnixListener
	// AllowUIDs are the users that may connect; nil allows root and the
	// user the daemon runs as.
	AllowUIDs []uint32
	// MaxConns bounds the clients served at once; 0 means DefaultMaxConns.
	MaxConns int
	// Log receives refusals and client errors; nil discards them.
	Log *slog.Logger
	// Refuse, if not nil, tells a refused peer why in the protocol's
	// words before the connection is closed.
	Refuse func(c *net.UnixConn, err error)
	// Handle serves one client; it returns when the client leaves or ctx
	// ends. The Acceptor closes c afterwards.
	Handle func(ctx context.Context, c *net.UnixConn, p Peer)
}

// Allowed reports whether uid may connect.
func (a *Acceptor) Allowed(uid uint32) bool {
	if a.AllowUIDs == nil {
		return uid == 0 || uid == uint32(os.Getuid())
	}
	return slices.Contains(a.AllowUIDs, uid)
}

// Serve accepts clients until ctx ends or the listener fails. It returns
// nil when ctx ended, after every handler has returned.
func (a *Acceptor) Serve(ctx context.Context) error {
	log := a.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	max := a.MaxConns
	if max <= 0 {
		max = DefaultMaxConns
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopListening := context.AfterFunc(ctx, func() { a.Listener.Close() })
	defer stopListening()

	var (
		mu    sync.Mutex
		conns = map[*net.UnixConn]bool{}
		wg    sync.WaitGroup
	)
	var err error
	for {
		var c *net.UnixConn
		c, err = a.Listener.AcceptUnix()
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
		mu.Lock()
		n := len(conns)
		mu.Unlock()
		if n >= max {
			log.Warn("control: too many clients, closing a new one", "socket", a.Listener.Addr().String(), "max", max)
			c.Close()
			continue
		}
		p, perr := PeerOf(c)
		if perr == nil && !a.Allowed(p.UID) {
			perr = &PeerError{Peer: p}
		}
		if perr != nil {
			log.Warn("control: refused a client", "socket", a.Listener.Addr().String(), "err", perr)
			if a.Refuse != nil {
				c.SetWriteDeadline(time.Now().Add(replyTimeout))
				a.Refuse(c, perr)
			}
			c.Close()
			continue
		}
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
				c.Close()
			}()
			a.Handle(ctx, c, p)
		}()
	}
	cancel()
	a.Listener.Close()
	mu.Lock()
	for c := range conns {
		c.SetReadDeadline(time.Now())
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
