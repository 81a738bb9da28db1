package display

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// isEFIVarFS says, with an error wrapping os.ErrNotExist, when dir is not
// where efivarfs is mounted: the directory the kernel makes for it stays
// empty (sysfs) until something mounts efivarfs there.
func isEFIVarFS(dir string) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return &os.PathError{Op: "statfs", Path: dir, Err: err}
	}
	if uint32(st.Type) != unix.EFIVARFS_MAGIC {
		return fmt.Errorf("efivarfs is not mounted on %s (the variables are not known): %w", dir, os.ErrNotExist)
	}
	return nil
}
