package main

import "golang.org/x/sys/unix"

// mount mounts fstype on dir as systemd mounts an API file system.
func mount(fstype, dir string) error {
	return unix.Mount(fstype, dir, fstype, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}

// bind bind-mounts src over dst, a file over a file.
func bind(src, dst string) error {
	return unix.Mount(src, dst, "", unix.MS_BIND, "")
}

// umount unmounts dir.
func umount(dir string) error {
	return unix.Unmount(dir, 0)
}
