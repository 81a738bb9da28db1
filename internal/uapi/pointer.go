package uapi

import "unsafe"

// Pointer is a user-space pointer as the kernel's structs carry it: a __u64.
// Keeping it typed as unsafe.Pointer, rather than a uint64 computed from a
// uintptr, lets the garbage collector see the memory it points to and lets
// the runtime adjust it when a goroutine stack moves.
type Pointer struct {
	ptr unsafe.Pointer
}

// NewPointer wraps p for a kernel struct field.
func NewPointer(p unsafe.Pointer) Pointer { return Pointer{p} }

// SlicePointer points at the first element of s, or is nil for an empty s.
func SlicePointer[T any](s []T) Pointer {
	if len(s) == 0 {
		return Pointer{}
	}
	return Pointer{unsafe.Pointer(&s[0])}
}

// IsNil reports whether p points nowhere.
func (p Pointer) IsNil() bool { return p.ptr == nil }
