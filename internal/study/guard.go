package study

import (
	"fmt"
	"runtime/debug"

	"github.com/bootsplash/bootsplash/access"
)

// StrayAccessError is a fault on a mapping's memory outside an access
// bracket, as a Guarded mapping turns a stray read or write into. It names
// the mapping (access.Mapping.Describe) so the diagnostic says which buffer
// was touched, and how it was mapped.
type StrayAccessError struct {
	// Addr is the faulting address.
	Addr uintptr
	// Mapping describes the mapping the address lies in.
	Mapping string
}

// Error reads like "stray access at 0x7f.. outside an access bracket:
// mapping 0x7f..-0x7f.. (1536000 bytes) of heap \"system\", guarded,
// generation 0".
func (e *StrayAccessError) Error() string {
	return fmt.Sprintf("stray access at %#x outside an access bracket: %s", e.Addr, e.Mapping)
}

// CatchStray runs f and, if f faults inside m's memory, returns a
// StrayAccessError instead of letting the fault kill the process. Faults
// elsewhere and other panics go on as they would have. It works on the
// calling goroutine only (runtime/debug.SetPanicOnFault).
func CatchStray(m *access.Mapping, f func()) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		fault, ok := r.(interface{ Addr() uintptr })
		if !ok || !m.Contains(fault.Addr()) {
			panic(r)
		}
		err = &StrayAccessError{Addr: fault.Addr(), Mapping: m.Describe()}
	}()
	f()
	return nil
}
