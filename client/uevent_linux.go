package client

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/kerror"
)

// UeventListener receives the kernel's uevents, as udev does (a
// NETLINK_KOBJECT_UEVENT socket bound to the kernel's multicast group), so
// hotplug works without udev, in an initramfs or on a minimal system.
// Reading needs no privilege.
type UeventListener struct {
	f      *os.File
	buf    []byte
	closed atomic.Bool
}

// ueventRcvbuf is the receive buffer asked for: a driver binding sends a
// burst of events, and a full buffer loses them.
const ueventRcvbuf = 1 << 20

// ListenUevents opens a uevent socket. Close it when done; Next blocks
// until an event comes or Close is called.
func ListenUevents() (*UeventListener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, &kerror.Error{Pkg: "uevents", Op: "socket(NETLINK_KOBJECT_UEVENT)", Err: err}
	}
	// A smaller buffer works too: overflows are reported by Next.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, ueventRcvbuf)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		unix.Close(fd)
		return nil, &kerror.Error{Pkg: "uevents", Op: "bind to the kernel's group", Err: err}
	}
	return &UeventListener{f: os.NewFile(uintptr(fd), "uevent"), buf: make([]byte, maxUevent+1)}, nil
}

// Next returns the next kernel event. Datagrams that are not kernel
// events (another process sending to the group, udev's re-broadcasts) are
// skipped. After Close it returns an error matching os.ErrClosed; when
// events were lost, one matching ErrUeventOverflow.
func (l *UeventListener) Next() (Uevent, error) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return Uevent{}, err
	}
	for {
		var n int
		var from unix.Sockaddr
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, from, rerr = unix.Recvfrom(int(fd), l.buf, 0)
			return rerr != unix.EAGAIN
		})
		switch {
		case err != nil && l.closed.Load():
			return Uevent{}, fmt.Errorf("uevents: %w", os.ErrClosed)
		case err != nil:
			return Uevent{}, fmt.Errorf("uevents: %w", err)
		case errors.Is(rerr, unix.ENOBUFS):
			return Uevent{}, ErrUeventOverflow
		case errors.Is(rerr, unix.EINTR):
			continue
		case rerr != nil:
			return Uevent{}, &kerror.Error{Pkg: "uevents", Op: "receive", Err: rerr}
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // not from the kernel
		}
		u, err := ParseUevent(l.buf[:n])
		if err != nil {
			continue // the kernel sends nothing else; ignore what is not an event
		}
		return u, nil
	}
}

// Close stops the listener; a Next blocked in another goroutine returns.
func (l *UeventListener) Close() error {
	l.closed.Store(true)
	return l.f.Close()
}
