package client

import (
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// Cards returns the DRM card nodes there are now, in the order of their
// names; none where the kernel has no DRM device or no /dev/dri. It reads
// the directory with plain system calls (open, getdents, close): on the
// way to the first frame a directory opened through os would be set up
// for the poller first, four more calls, each one a chance for the
// runtime to hand the goroutine to another thread.
func Cards() []string {
	dir, prefix := filepath.Split(CardPattern)
	prefix = strings.TrimSuffix(prefix, "*")
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	var cards []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			break
		}
		var names []string
		_, _, names = unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if strings.HasPrefix(name, prefix) {
				cards = append(cards, dir+name)
			}
		}
	}
	sort.Strings(cards)
	return cards
}
