package kerror

import (
	"errors"
	"strings"
	"syscall"
)

// Error is a failed kernel operation.
type Error struct {
	// Pkg names the package (or part of one) that failed, printed first
	// ("access: ...", "fbemu: ...", "uevents: ..."), or "": package
	// client's device errors start with the operation.
	Pkg string
	// Op is what was tried, worded to read before Device: "import dma-buf
	// into", "alloc 8294400 bytes from", "set master on".
	Op string
	// Device is what the operation acted on: a driver or device node
	// ("cirrus", "/dev/dri/card0") or a buffer's origin (`heap "system"`,
	// "memfd"), or "".
	Device string
	// Path is the file involved, printed in parentheses, or "".
	Path string
	// Err is the cause: a syscall.Errno from the kernel, a sentinel, or
	// another error (an *Error of a lower layer). It may be nil.
	Err error
	// Hint explains the failure in the project's terms ("driver cannot
	// import", "another process is DRM master"), or "".
	Hint string
	// Kind is a sentinel the error matches besides Err's chain
	// (ErrNotSupported, client.ErrImportUnsupported), or nil.
	Kind error
}

// Error reads "pkg: op device (path): cause (hint)", leaving out what is
// empty.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Pkg != "" {
		b.WriteString(e.Pkg)
		b.WriteString(": ")
	}
	b.WriteString(e.Op)
	if e.Device != "" {
		b.WriteByte(' ')
		b.WriteString(e.Device)
	}
	if e.Path != "" {
		b.WriteString(" (")
		b.WriteString(e.Path)
		b.WriteByte(')')
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteByte(')')
	}
	return b.String()
}

// Unwrap returns the cause, so that errors.Is sees the errno and
// errors.As the lower layers' errors.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the error's Kind (and what Kind wraps).
func (e *Error) Is(target error) bool { return e.Kind != nil && errors.Is(e.Kind, target) }

// Errno returns the kernel's answer: the first syscall.Errno in the
// cause's chain, or 0 when the failure was not the kernel's.
func (e *Error) Errno() syscall.Errno {
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		return errno
	}
	return 0
}

// ErrNotSupported is matched (errors.Is) by errors for what this kernel,
// driver or device cannot do. It also matches errors.ErrUnsupported.
var ErrNotSupported error = &sentinel{"not supported", errors.ErrUnsupported}

// sentinel is an error value with a message that also matches a standard
// error.
type sentinel struct {
	msg  string
	wrap error
}

// Error is the sentinel's message.
func (s *sentinel) Error() string { return s.msg }

// Unwrap gives the standard error the sentinel also matches.
func (s *sentinel) Unwrap() error { return s.wrap }
