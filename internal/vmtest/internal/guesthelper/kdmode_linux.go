package main

import (
	"fmt"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// kdmode prints the foreground VT and its mode ("kdmode /dev/tty1
// graphics"), read through files of its own: VT_GETSTATE on /dev/tty0,
// then KDGETMODE on /dev/ttyN.
func kdmode() error {
	fd, err := uapi.Open("/dev/tty0", unix.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open /dev/tty0: %w", err)
	}
	var st uapi.VtStat
	err = uapi.Ioctl(fd, uapi.VT_GETSTATE, unsafe.Pointer(&st))
	unix.Close(fd)
	if err != nil {
		return fmt.Errorf("VT_GETSTATE /dev/tty0: %w", err)
	}
	tty := "/dev/tty" + strconv.Itoa(int(st.Active))
	if fd, err = uapi.Open(tty, unix.O_WRONLY|unix.O_NOCTTY, 0); err != nil {
		return fmt.Errorf("open %s: %w", tty, err)
	}
	defer unix.Close(fd)
	var mode int32
	if err := uapi.Ioctl(fd, uapi.KDGETMODE, unsafe.Pointer(&mode)); err != nil {
		return fmt.Errorf("KDGETMODE %s: %w", tty, err)
	}
	name := "mode " + strconv.Itoa(int(mode))
	switch mode {
	case uapi.KD_TEXT:
		name = "text"
	case uapi.KD_GRAPHICS:
		name = "graphics"
	}
	fmt.Println("kdmode", tty, name)
	return nil
}
