package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bootsplash/bootsplash/splash/control"
	"github.com/bootsplash/bootsplash/splash/plymouth"
)

// Front end names, as Report counts them.
const (
	Native   = "native"
	Plymouth = "plymouth"
	Psplash  = "psplash"
)

// client is one load client: it sends its share of requests as fast as
// the daemon takes them.
type client interface {
	name() string
	frontend() string
	// send sends n requests, adding each to total once it is answered
	// (or, on the FIFO, written).
	send(ctx context.Context, n int, total *atomic.Int64) error
	sent() int
	close()
}

// text is the message or status line of request i of client id: it
// varies in content and length, as boot scripts' lines do.
func text(kind string, id, i int) string {
	words := []string{"Starting", "udev", "Mounting /var", "Checking file systems", "Reached target Basic System", "Started Network Manager"}
	w := words[(id+i)%len(words)]
	return fmt.Sprintf("%s %d.%d: %s", kind, id, i, strings.Repeat(w+" ", 1+i%3))
}

// percent is the progress of request i of client id, in whole percent.
func percent(id, i int) int { return (id*31 + i*7) % 101 }

// nativeClient sends over bootsplash's own socket with the real client.
type nativeClient struct {
	id int
	c  *control.Client
	n  int
}

func (c *nativeClient) name() string     { return fmt.Sprintf("native client %d", c.id) }
func (c *nativeClient) frontend() string { return Native }
func (c *nativeClient) sent() int        { return c.n }
func (c *nativeClient) close()           { c.c.Close() }

// request is the native client's request i: progress (with decimals),
// message, status and system-update in turn.
func (c *nativeClient) request(i int) control.Command {
	p := (float64(percent(c.id, i)) + float64(i%1000)/1000) / 101
	switch i % 4 {
	case 0:
		return control.Command{Kind: control.Progress, Value: p}
	case 1:
		return control.Command{Kind: control.Message, Text: text("message", c.id, i)}
	case 2:
		return control.Command{Kind: control.Status, Text: text("status", c.id, i)}
	}
	return control.Command{Kind: control.SystemUpdate, Value: p}
}

func (c *nativeClient) send(ctx context.Context, n int, total *atomic.Int64) error {
	for i := range n {
		if err := c.c.Do(ctx, c.request(i)); err != nil {
			return err
		}
		c.n++
		total.Add(1)
	}
	return nil
}

// plymouthClient speaks plymouth's boot protocol as the `plymouth`
// command-line client does (bootsplash has no client side of it): one
// request, then one reply byte, on a trimmed abstract socket.
type plymouthClient struct {
	id   int
	c    *net.UnixConn
	stop func() bool
	n    int
}

// Plymouth's reply bytes (ply-boot-protocol.h).
const (
	plymouthAck = 0x06
	plymouthNak = 0x15
)

func dialPlymouth(ctx context.Context, name string, id int, wait time.Duration) (*plymouthClient, error) {
	if name == "" {
		name = plymouth.SocketName
	}
	var c *net.UnixConn
	err := retry(ctx, wait, func() error {
		var err error
		c, err = net.DialUnix("unix", nil, &net.UnixAddr{Name: "@" + name, Net: "unix"})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("plymouth client %d: %w", id, err)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	return &plymouthClient{id: id, c: c, stop: stop}, nil
}

func (c *plymouthClient) name() string     { return fmt.Sprintf("plymouth client %d", c.id) }
func (c *plymouthClient) frontend() string { return Plymouth }
func (c *plymouthClient) sent() int        { return c.n }
func (c *plymouthClient) close()           { c.stop(); c.c.Close() }

// plymouthRequest encodes a request with an argument: the letter, 0x02,
// the argument's size with its NUL, the argument and the NUL.
func plymouthRequest(letter byte, arg string) []byte {
	if len(arg) > 254 {
		arg = arg[:254]
	}
	b := []byte{letter, 0x02, byte(len(arg) + 1)}
	b = append(b, arg...)
	return append(b, 0)
}

// request is the plymouth client's request i: system-update --progress,
// display-message and update --status in turn.
func (c *plymouthClient) request(i int) []byte {
	switch i % 3 {
	case 0:
		return plymouthRequest('u', strconv.Itoa(percent(c.id, i)))
	case 1:
		return plymouthRequest('M', text("message", c.id, i))
	}
	return plymouthRequest('U', text("status", c.id, i))
}

func (c *plymouthClient) send(ctx context.Context, n int, total *atomic.Int64) error {
	var reply [1]byte
	for i := range n {
		req := c.request(i)
		if _, err := c.c.Write(req); err != nil {
			return err
		}
		if _, err := io.ReadFull(c.c, reply[:]); err != nil {
			return fmt.Errorf("request %q: reading the reply: %w", req[0], err)
		}
		switch reply[0] {
		case plymouthAck:
		case plymouthNak:
			return fmt.Errorf("request %q %q: refused (NAK)", req[0], req[3:len(req)-1])
		default:
			return fmt.Errorf("request %q: unexpected reply 0x%02x", req[0], reply[0])
		}
		c.n++
		total.Add(1)
	}
	return nil
}

// psplashWriter writes to psplash's FIFO as psplash-write does: one
// command and its NUL per write. The FIFO answers nothing; a full pipe
// holds the writer back.
type psplashWriter struct {
	id   int
	f    *os.File
	stop func() bool
	n    int
}

// nonBlock opens the FIFO without waiting for a reader: with no daemon
// the open fails (ENXIO) instead of hanging; Go's poller still makes a
// write wait while the pipe is full.
const nonBlock = syscall.O_NONBLOCK

func openPsplash(ctx context.Context, path string, id int, wait time.Duration) (*psplashWriter, error) {
	var f *os.File
	err := retry(ctx, wait, func() error {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|nonBlock, 0)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("psplash writer %d: %w", id, err)
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Now()) })
	return &psplashWriter{id: id, f: f, stop: stop}, nil
}

func (w *psplashWriter) name() string     { return fmt.Sprintf("psplash writer %d", w.id) }
func (w *psplashWriter) frontend() string { return Psplash }
func (w *psplashWriter) sent() int        { return w.n }
func (w *psplashWriter) close()           { w.stop(); w.f.Close() }

// command is the writer's command i: PROGRESS and MSG in turn.
func (w *psplashWriter) command(i int) []byte {
	if i%2 == 0 {
		return fmt.Appendf(nil, "PROGRESS %d\x00", percent(w.id, i))
	}
	return fmt.Appendf(nil, "MSG %s\x00", text("message", w.id, i))
}

func (w *psplashWriter) send(ctx context.Context, n int, total *atomic.Int64) error {
	for i := range n {
		if _, err := w.f.Write(w.command(i)); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		w.n++
		total.Add(1)
	}
	return nil
}
