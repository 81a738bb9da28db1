//go:build !linux

package input

// NoDumps does nothing where there is no PR_SET_DUMPABLE.
func NoDumps() (restore func()) { return func() {} }

// Dumpable reports true: nothing here keeps a process from dumping.
func Dumpable() bool { return true }
