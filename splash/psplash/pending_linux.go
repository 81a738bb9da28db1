package psplash

import "golang.org/x/sys/unix"

// drained reports whether the FIFO holds no unread bytes.
func (p *FIFO) drained() bool {
	raw, err := p.f.SyscallConn()
	if err != nil {
		return false
	}
	n, ierr := -1, error(nil)
	// TIOCINQ is FIONREAD: the bytes waiting in the pipe.
	if err := raw.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil || ierr != nil {
		return false
	}
	return n == 0
}
