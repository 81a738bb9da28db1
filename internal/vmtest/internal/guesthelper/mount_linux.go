package main

import "golang.org/x/sys/unix"

// mount mounts fstype on dir as systemd mounts an API file system.
func mount(fstype, dir string) error {
	return unix.Mount(fstype, dir, fstype, unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
}
