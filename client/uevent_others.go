//go:build !linux

package client

// UeventListener receives kernel uevents; off Linux there are none.
type UeventListener struct{}

// ListenUevents fails off Linux.
func ListenUevents() (*UeventListener, error) { return nil, errNotLinux("listen to uevents of") }

// Next fails off Linux.
func (l *UeventListener) Next() (Uevent, error) { return Uevent{}, errNotLinux("read uevents of") }

// Close does nothing off Linux.
func (l *UeventListener) Close() error { return nil }
