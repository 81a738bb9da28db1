package control

import (
	"context"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// hangupPoll is how long one wait for the peer's hang-up lasts before
// the watcher checks whether it is still wanted.
const hangupPoll = 100 * time.Millisecond

// WhileConnected returns a context that ends when ctx does or when the
// peer of c hangs up (closes or shuts down its end), without reading
// from c: a question's asker is watched this way while the question
// waits for its answer. Call stop when the question is over.
func WhileConnected(ctx context.Context, c *net.UnixConn) (gone context.Context, stop context.CancelFunc) {
	gone, cancel := context.WithCancel(ctx)
	raw, err := c.SyscallConn()
	if err != nil {
		cancel()
		return gone, cancel
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for gone.Err() == nil {
			hung := false
			cerr := raw.Control(func(fd uintptr) {
				fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
				n, err := unix.Poll(fds, int(hangupPoll/time.Millisecond))
				if err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0 {
					hung = true
				}
			})
			if cerr != nil || hung {
				cancel()
				return
			}
		}
	}()
	return gone, func() { cancel(); <-done }
}
