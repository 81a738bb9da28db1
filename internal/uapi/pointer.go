package uapi

import "unsafe"

// NewPointer wraps p for a kernel struct field.
func NewPointer(p unsafe.Pointer) Pointer { return Pointer{ptr: p} }

// SlicePointer points at the first element of s, or is nil for an empty s.
func SlicePointer[T any](s []T) Pointer {
	if len(s) == 0 {
		return Pointer{}
	}
	return Pointer{ptr: unsafe.Pointer(&s[0])}
}

// IsNil reports whether p points nowhere.
func (p Pointer) IsNil() bool { return p.ptr == nil }
