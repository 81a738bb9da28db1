package status

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// diskUsage reads statfs(2) of the filesystem holding path: the space in
// use (what df shows: blocks less free blocks) and its size.
func diskUsage(path string) (used, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return (st.Blocks - st.Bfree) * bs, st.Blocks * bs, nil
}
