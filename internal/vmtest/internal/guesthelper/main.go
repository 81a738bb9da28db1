// Command guesthelper is the guest-side fixture of the VM runner's own
// tests: small, predictable behaviours (exit with a status, hang, print a
// file, fill the fbdev framebuffer with a known picture and wait for
// SIGTERM) that let the runner's plan steps, timeouts, host steps and
// screendumps be checked without the project's code; and one probe of
// kernel state other programs leave behind (kdmode: the foreground VT's
// text or graphics mode, as KDGETMODE reads it). Two more set the scene
// for the heap tests: fragment N takes N 1 MiB buffers from the system
// dma-buf heap and gives back every other one, so that no two free 1 MiB
// blocks are adjacent where they were, and holds the rest until SIGTERM;
// dmesg prints the kernel log; ls lists a directory; mount FSTYPE DIR mounts a file system
// with no source, as systemd mounts its API file systems (efivarfs on
// /sys/firmware/efi/efivars), nosuid, nodev and noexec. And three put a
// file of the test's in place of a kernel's: truncate SRC DST SIZE writes
// a copy of SRC cut to SIZE bytes ("half": half of SRC's), or extended to
// it with a hole; bind SRC DST bind-mounts SRC over DST (a sysfs
// attribute); umount DIR undoes it.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: guesthelper exit N | hang | cat FILE | fill | kdmode | chvt N | fragment N | dmesg | ls DIR | mount FSTYPE DIR | truncate SRC DST SIZE|half | bind SRC DST | umount DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "exit":
		n, _ := strconv.Atoi(os.Args[2])
		fmt.Println("exiting with", n)
		os.Exit(n)
	case "hang":
		fmt.Println("hanging")
		time.Sleep(time.Hour)
	case "cat":
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
	case "fill":
		if err := fill(); err != nil {
			fmt.Fprintln(os.Stderr, "fill:", err)
			os.Exit(1)
		}
	case "kdmode":
		if err := kdmode(); err != nil {
			fmt.Fprintln(os.Stderr, "kdmode:", err)
			os.Exit(1)
		}
	case "chvt":
		n, err := strconv.Atoi(os.Args[2])
		if err == nil {
			err = chvt(n, 10*time.Second)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "chvt:", err)
			os.Exit(1)
		}
	case "fragment":
		n, err := strconv.Atoi(os.Args[2])
		if err == nil {
			err = fragment(n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fragment:", err)
			os.Exit(1)
		}
	case "dmesg":
		if err := dmesg(); err != nil {
			fmt.Fprintln(os.Stderr, "dmesg:", err)
			os.Exit(1)
		}
	case "ls":
		ents, err := os.ReadDir(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, e := range ents {
			fmt.Println(e.Name())
		}
	case "mount":
		if len(os.Args) != 4 {
			fmt.Fprintln(os.Stderr, "usage: guesthelper mount FSTYPE DIR")
			os.Exit(2)
		}
		if err := mount(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "mount:", err)
			os.Exit(1)
		}
		fmt.Printf("mounted %s on %s\n", os.Args[2], os.Args[3])
	case "truncate":
		if len(os.Args) != 5 {
			fmt.Fprintln(os.Stderr, "usage: guesthelper truncate SRC DST SIZE|half")
			os.Exit(2)
		}
		n, err := truncateCopy(os.Args[2], os.Args[3], os.Args[4])
		if err != nil {
			fmt.Fprintln(os.Stderr, "truncate:", err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d bytes of %s\n", os.Args[3], n, os.Args[2])
	case "bind", "umount":
		var err error
		if os.Args[1] == "bind" && len(os.Args) == 4 {
			err = bind(os.Args[2], os.Args[3])
		} else if os.Args[1] == "umount" && len(os.Args) == 3 {
			err = umount(os.Args[2])
		} else {
			fmt.Fprintln(os.Stderr, "usage: guesthelper bind SRC DST | umount DIR")
			os.Exit(2)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		fmt.Println(os.Args[1], strings.Join(os.Args[2:], " "))
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(2)
	}
}

// truncateCopy writes SRC to DST cut to size bytes, or extended to it
// with a hole; size "half" is half of SRC's length. It returns DST's size.
func truncateCopy(src, dst, size string) (int64, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return 0, err
	}
	n := int64(len(b)) / 2
	if size != "half" {
		if n, err = strconv.ParseInt(size, 0, 64); err != nil || n < 0 {
			return 0, fmt.Errorf("size %q is not a number of bytes or half", size)
		}
	}
	if n < int64(len(b)) {
		b = b[:n]
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		return 0, err
	}
	return n, os.Truncate(dst, n)
}

func sysInt(name string, field int) (int, error) {
	b, err := os.ReadFile("/sys/class/graphics/fb0/" + name)
	if err != nil {
		return 0, err
	}
	f := strings.Split(strings.TrimSpace(string(b)), ",")
	return strconv.Atoi(f[field])
}

// Quadrant returns the colour (0xRRGGBB) the fill mode paints at (x, y) of
// a w×h screen: red, green / blue, white quadrants.
func quadrant(x, y, w, h int) uint32 {
	switch {
	case x < w/2 && y < h/2:
		return 0xff0000
	case y < h/2:
		return 0x00ff00
	case x < w/2:
		return 0x0000ff
	}
	return 0xffffff
}

// fill paints the quadrants into /dev/fb0, says so, and waits for SIGTERM.
func fill() error {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	w, err := sysInt("virtual_size", 0)
	if err != nil {
		return err
	}
	h, err := sysInt("virtual_size", 1)
	if err != nil {
		return err
	}
	bpp, err := sysInt("bits_per_pixel", 0)
	if err != nil {
		return err
	}
	stride, err := sysInt("stride", 0)
	if err != nil {
		return err
	}
	buf := make([]byte, stride*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := quadrant(x, y, w, h)
			switch bpp {
			case 32:
				binary.LittleEndian.PutUint32(buf[y*stride+x*4:], c)
			case 16:
				r, g, b := c>>16&0xff, c>>8&0xff, c&0xff
				binary.LittleEndian.PutUint16(buf[y*stride+x*2:], uint16(r>>3<<11|g>>2<<5|b>>3))
			default:
				return fmt.Errorf("%d bits per pixel", bpp)
			}
		}
	}
	f, err := os.OpenFile("/dev/fb0", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.WriteAt(buf, 0); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // let the damage worker flush
	fmt.Printf("filled %dx%d at %d bpp\n", w, h, bpp)
	<-sig
	fmt.Println("terminated")
	return nil
}
