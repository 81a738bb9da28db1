package sysmem

import "golang.org/x/sys/unix"

// rlimitAS returns the address-space limit, when there is one.
func rlimitAS() (uint64, bool) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_AS, &r); err != nil || r.Cur == unix.RLIM_INFINITY {
		return 0, false
	}
	return uint64(r.Cur), true
}
