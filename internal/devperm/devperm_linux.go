package devperm

import "golang.org/x/sys/unix"

// hasACL reports whether path carries a POSIX access ACL.
func hasACL(path string) bool {
	n, err := unix.Getxattr(path, "system.posix_acl_access", nil)
	return err == nil && n > 0
}

func check(path string, a Access) error {
	mode := uint32(unix.R_OK)
	if a == ReadWrite {
		mode |= unix.W_OK
	}
	return unix.Faccessat(unix.AT_FDCWD, path, mode, unix.AT_EACCESS)
}
