package input

import "golang.org/x/sys/unix"

// secretBuf maps n bytes of private memory, locked and left out of core
// dumps; it falls back to the heap when the system refuses.
func secretBuf(n int) ([]byte, func(), bool) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, n), nil, false
	}
	locked := unix.Mlock(b) == nil
	if unix.Madvise(b, unix.MADV_DONTDUMP) != nil {
		locked = false
	}
	return b, func() { unix.Munmap(b) }, locked
}
