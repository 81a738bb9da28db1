package main

import (
	"fmt"
	"strconv"
	"time"
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

// chvt asks the kernel to bring VT n to the front, as chvt(1) does
// (VT_ACTIVATE), and waits up to limit for it to be in front; a switch the
// VT in front refuses (graphics mode under VT_AUTO, or a VT_PROCESS
// controller that does not release it) never happens.
func chvt(n int, limit time.Duration) error {
	fd, err := uapi.Open("/dev/tty0", unix.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return fmt.Errorf("open /dev/tty0: %w", err)
	}
	defer unix.Close(fd)
	if err := uapi.IoctlInt(fd, uapi.VT_ACTIVATE, uintptr(n)); err != nil {
		return fmt.Errorf("VT_ACTIVATE %d: %w", n, err)
	}
	start := time.Now()
	for {
		var st uapi.VtStat
		if err := uapi.Ioctl(fd, uapi.VT_GETSTATE, unsafe.Pointer(&st)); err != nil {
			return fmt.Errorf("VT_GETSTATE: %w", err)
		}
		if int(st.Active) == n {
			fmt.Printf("chvt: /dev/tty%d in front after %v\n", n, time.Since(start).Round(time.Millisecond))
			return nil
		}
		if time.Since(start) > limit {
			return fmt.Errorf("still on /dev/tty%d %v after asking for /dev/tty%d", st.Active, limit, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
