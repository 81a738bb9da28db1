//go:build !386 && !arm && !mips && !mipsle

package uapi

import "unsafe"

// Pointer is a user-space pointer as the kernel's structs carry it: a __u64.
// Keeping it typed as unsafe.Pointer, rather than a uint64 computed from a
// uintptr, lets the garbage collector see the memory it points to and lets
// the runtime adjust it when a goroutine stack moves.
type Pointer struct {
	ptr unsafe.Pointer
}
