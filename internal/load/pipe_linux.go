package load

import (
	"os"

	"golang.org/x/sys/unix"
)

// pipeQueued returns how many bytes wait in the pipe behind f (FIONREAD,
// which x/sys calls TIOCINQ, counts them from either end): 0 once the
// daemon has read psplash's FIFO empty.
func pipeQueued(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var ioErr error
	if err := rc.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil {
		return 0, err
	}
	if ioErr != nil {
		return 0, os.NewSyscallError("ioctl FIONREAD", ioErr)
	}
	return n, nil
}
