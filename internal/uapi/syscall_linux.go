package uapi

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Site names one kernel call, for the fault-injection hook and for errors.
type Site struct {
	// Call is the system call: "ioctl", "open", "mmap", "munmap",
	// "mprotect", "memfd_create" or "read".
	Call string
	// Req is the ioctl request, or 0 for other calls.
	Req uint
	// Path is the file opened, for "open".
	Path string
}

// String names the site the way the kernel headers do.
func (s Site) String() string {
	switch {
	case s.Call == "ioctl":
		return IoctlName(s.Req)
	case s.Path != "":
		return s.Call + " " + s.Path
	}
	return s.Call
}

// FaultHook decides whether a kernel call fails before it is made. It returns
// nil to let the call through, or the error the call should fail with. An
// EINTR or EAGAIN it returns is retried like a real one, so a hook can stage
// interrupt storms.
type FaultHook func(Site) error

var faultHook atomic.Pointer[FaultHook]

// SetFaultHook installs h (nil removes it) for every later kernel call made
// through this package, and returns a function that puts back the previous
// hook. It exists for tests; production code never sets it.
func SetFaultHook(h FaultHook) (restore func()) {
	var p *FaultHook
	if h != nil {
		p = &h
	}
	old := faultHook.Swap(p)
	return func() { faultHook.Store(old) }
}

func fault(s Site) error {
	if h := faultHook.Load(); h != nil {
		return (*h)(s)
	}
	return nil
}

func retry(e error) bool { return e == unix.EINTR || e == unix.EAGAIN }

// Ioctl issues one ioctl on fd with arg pointing at the request's struct,
// retrying while the kernel answers EINTR or EAGAIN. The error, if any, is a
// unix.Errno (or what the fault hook returned).
func Ioctl(fd int, req uint, arg unsafe.Pointer) error {
	_, err := IoctlRet(fd, req, arg)
	return err
}

// IoctlRet is Ioctl for the requests whose return value means something,
// such as UDMABUF_CREATE, which returns a new dma-buf fd.
func IoctlRet(fd int, req uint, arg unsafe.Pointer) (int, error) {
	for {
		if err := fault(Site{Call: "ioctl", Req: req}); err != nil {
			if retry(err) {
				continue
			}
			return -1, err
		}
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		if e == 0 {
			return int(r), nil
		}
		if !retry(e) {
			return -1, e
		}
	}
}

// IoctlInt is Ioctl for the requests that take an integer value rather than
// a pointer, such as KDSETMODE.
func IoctlInt(fd int, req uint, arg uintptr) error {
	for {
		if err := fault(Site{Call: "ioctl", Req: req}); err != nil {
			if retry(err) {
				continue
			}
			return err
		}
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), arg)
		if e == 0 {
			return nil
		}
		if !retry(e) {
			return e
		}
	}
}

// Open opens path with O_CLOEXEC added, retrying EINTR.
func Open(path string, flags int, mode uint32) (int, error) {
	for {
		if err := fault(Site{Call: "open", Path: path}); err != nil {
			if retry(err) {
				continue
			}
			return -1, err
		}
		fd, err := unix.Open(path, flags|unix.O_CLOEXEC, mode)
		if err == nil || !retry(err) {
			return fd, err
		}
	}
}

// retried makes one call of f at site s, retrying while the fault hook or
// the kernel answers EINTR or EAGAIN.
func retried[T any](s Site, f func() (T, error)) (T, error) {
	for {
		if err := fault(s); err != nil {
			if retry(err) {
				continue
			}
			var zero T
			return zero, err
		}
		v, err := f()
		if err == nil || !retry(err) {
			return v, err
		}
	}
}

// Mmap maps length bytes of fd at offset.
func Mmap(fd int, offset int64, length int, prot, flags int) ([]byte, error) {
	return retried(Site{Call: "mmap"}, func() ([]byte, error) { return unix.Mmap(fd, offset, length, prot, flags) })
}

// Munmap removes a mapping made by Mmap.
func Munmap(b []byte) error {
	_, err := retried(Site{Call: "munmap"}, func() (struct{}, error) { return struct{}{}, unix.Munmap(b) })
	return err
}

// Mprotect changes the protection of a mapping made by Mmap.
func Mprotect(b []byte, prot int) error {
	_, err := retried(Site{Call: "mprotect"}, func() (struct{}, error) { return struct{}{}, unix.Mprotect(b, prot) })
	return err
}

// MemfdCreate creates an anonymous file with MFD_CLOEXEC added.
func MemfdCreate(name string, flags int) (int, error) {
	return retried(Site{Call: "memfd_create"}, func() (int, error) { return unix.MemfdCreate(name, flags|unix.MFD_CLOEXEC) })
}

// Read reads from fd (DRM events), retrying EINTR. It is written out, not
// made with retried, because a steady frame's flip wait calls it and must
// not allocate.
func Read(fd int, p []byte) (int, error) {
	for {
		if err := fault(Site{Call: "read"}); err != nil {
			if retry(err) {
				continue
			}
			return 0, err
		}
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}
