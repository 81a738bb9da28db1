package input

import "golang.org/x/sys/unix"

// NoDumps keeps the process out of core dumps (and /proc/PID/mem from
// other users) while a passphrase is held: PR_SET_DUMPABLE 0. restore
// puts back what was there.
func NoDumps() (restore func()) {
	was, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	if err != nil || was == 0 {
		return func() {}
	}
	if unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) != nil {
		return func() {}
	}
	return func() { unix.Prctl(unix.PR_SET_DUMPABLE, uintptr(was), 0, 0, 0) }
}

// Dumpable reports whether the process may dump core now.
func Dumpable() bool {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return err == nil && v != 0
}
