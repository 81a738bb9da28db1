//go:build !linux

package access

import (
	"fmt"
	"os"

	"github.com/bootsplash/bootsplash/kerror"
)

// Off Linux there are no dma-bufs, heaps or memfds: every function that would
// reach the kernel fails with an error wrapping os.ErrNotExist, so that the
// module builds everywhere and works on Linux.

type syncArg struct{}

var errNotLinux = fmt.Errorf("dma-buf CPU access needs Linux: %w", os.ErrNotExist)

func closeFd(int) error { return nil }

func notLinux(op string) error { return &kerror.Error{Pkg: "access", Op: op, Err: errNotLinux} }

// Heaps fails off Linux with an error wrapping ErrNoHeaps.
func Heaps() ([]Heap, error) {
	return nil, &kerror.Error{Pkg: "access", Op: "list heaps", Path: heapDir, Err: fmt.Errorf("%w: %w", ErrNoHeaps, errNotLinux)}
}

// DefaultHeapName fails off Linux with an error wrapping ErrNoHeaps.
func DefaultHeapName() (string, error) {
	_, err := Heaps()
	return "", err
}

// OpenHeap fails off Linux with an error wrapping ErrNoHeaps.
func OpenHeap(name string) (*HeapFile, error) {
	_, err := Heaps()
	return nil, err
}

// CheckHeap fails off Linux with an error wrapping ErrNoHeaps.
func CheckHeap(name string) error {
	_, err := Heaps()
	return err
}

// CheckUdmabuf fails off Linux with an error wrapping ErrNoUdmabuf.
func CheckUdmabuf() error {
	return &kerror.Error{Pkg: "access", Op: "open", Device: "udmabuf", Err: fmt.Errorf("%w: %w", ErrNoUdmabuf, errNotLinux)}
}

// Alloc fails off Linux.
func (h *HeapFile) Alloc(size int) (*Buffer, error) { return nil, notLinux("alloc") }

// AllocFlags fails off Linux.
func (h *HeapFile) AllocFlags(size int, fdFlags uint32, heapFlags uint64) (*Buffer, error) {
	return nil, notLinux("alloc")
}

// Close does nothing off Linux.
func (h *HeapFile) Close() error { return nil }

// AllocUdmabuf fails off Linux with an error wrapping ErrNoUdmabuf.
func AllocUdmabuf(size int) (*Buffer, error) {
	return nil, &kerror.Error{Pkg: "access", Op: "alloc", Device: "udmabuf", Err: fmt.Errorf("%w: %w", ErrNoUdmabuf, errNotLinux)}
}

// AllocMemfd fails off Linux.
func AllocMemfd(size int) (*Buffer, error) { return nil, notLinux("alloc memfd") }

// SetName fails off Linux.
func SetName(b *Buffer, name string) error { return notLinux("set name") }

// Map fails off Linux.
func Map(b *Buffer, s Strategy) (*Mapping, error) { return nil, notLinux("map") }

// Begin fails off Linux.
func (m *Mapping) Begin(mode Direction) ([]byte, error) { return nil, notLinux("begin") }

// End fails off Linux.
func (m *Mapping) End() error { return notLinux("end") }

// Replace fails off Linux.
func (m *Mapping) Replace(b *Buffer) error { return notLinux("replace") }

// Close does nothing off Linux.
func (m *Mapping) Close() error { return nil }
