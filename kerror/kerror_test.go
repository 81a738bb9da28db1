package kerror

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
)

func TestErrorFormat(t *testing.T) {
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{Op: "import dma-buf into", Device: "cirrus", Err: syscall.EINVAL, Hint: "driver cannot import"},
			"import dma-buf into cirrus: invalid argument (driver cannot import)"},
		{Error{Pkg: "access", Op: "alloc 8294400 bytes from", Device: `heap "system"`, Path: "/dev/dma_heap/system", Err: syscall.ENOMEM},
			`access: alloc 8294400 bytes from heap "system" (/dev/dma_heap/system): cannot allocate memory`},
		{Error{Pkg: "access", Op: "list heaps", Path: "/dev/dma_heap", Err: fs.ErrNotExist},
			"access: list heaps (/dev/dma_heap): file does not exist"},
		{Error{Pkg: "access", Op: "close", Device: "udmabuf"}, "access: close udmabuf"},
		{Error{Op: "open", Device: "/dev/dri/card0", Err: syscall.EACCES, Hint: "mode 0660"}, "open /dev/dri/card0: permission denied (mode 0660)"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.e, got, c.want)
		}
	}
}

func TestErrorIs(t *testing.T) {
	errImport := fmt.Errorf("dma-buf import %w", ErrNotSupported)
	inner := &Error{Pkg: "access", Op: "begin", Device: "memfd", Err: syscall.EBADF}
	e := fmt.Errorf("wrapped: %w", &Error{Op: "import dma-buf into", Device: "bochs", Err: syscall.EINVAL, Kind: errImport})
	for _, target := range []error{syscall.EINVAL, errImport, ErrNotSupported, errors.ErrUnsupported} {
		if !errors.Is(e, target) {
			t.Errorf("errors.Is(%v, %v) = false", e, target)
		}
	}
	if errors.Is(e, syscall.EBADF) || errors.Is(inner, ErrNotSupported) {
		t.Error("an error matches what it is not")
	}
	outer := &Error{Pkg: "fbemu", Op: "map buffer 0", Err: inner}
	var got *Error
	if !errors.As(fmt.Errorf("x: %w", outer), &got) || got != outer {
		t.Errorf("errors.As found %v, want the outer error", got)
	}
	if !errors.Is(outer, syscall.EBADF) || outer.Errno() != syscall.EBADF {
		t.Errorf("outer error: Is EBADF %v, Errno %v", errors.Is(outer, syscall.EBADF), outer.Errno())
	}
	if n := (&Error{Op: "x", Err: errors.New("no errno")}).Errno(); n != 0 {
		t.Errorf("Errno of a non-kernel failure: %v, want 0", n)
	}
}
