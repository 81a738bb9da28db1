//go:build linux

// Command kbdwait waits in the VM tests for a keyboard plugged in late:
// until an evdev device whose kernel name contains NAME exists and, with
// --taken, until another process has it open and grabbed (EVIOCGRAB), as
// the splash's evdev reader does with a keyboard it took. It prints the
// device, who has it, and how long each took, so that keys are typed only
// once they have somewhere to go.
//
// With --gone it waits instead until no such device is left (unplugged).
//
// Usage: kbdwait [--taken|--gone] NAME TIMEOUT
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

func main() {
	taken := flag.Bool("taken", false, "wait until another process has the device open and grabbed")
	gone := flag.Bool("gone", false, "wait until no such device is left")
	flag.Parse()
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: kbdwait [--taken|--gone] NAME TIMEOUT")
		os.Exit(2)
	}
	name := flag.Arg(0)
	timeout, err := time.ParseDuration(flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "kbdwait:", err)
		os.Exit(2)
	}
	start := time.Now()
	deadline := start.Add(timeout)
	if *gone {
		for find(name) != "" {
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "kbdwait: an evdev device named like %q is still there after %v\n", name, timeout)
				os.Exit(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Printf("gone after %v\n", time.Since(start).Round(time.Millisecond))
		return
	}
	node := ""
	for node == "" {
		node = find(name)
		if node == "" {
			if time.Now().After(deadline) {
				fmt.Fprintf(os.Stderr, "kbdwait: no evdev device named like %q after %v\n", name, timeout)
				os.Exit(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	found := time.Since(start)
	fmt.Printf("device %s after %v\n", node, found.Round(time.Millisecond))
	if !*taken {
		return
	}
	for {
		if pid := holder(node); pid != 0 {
			fmt.Printf("opened by pid %d %v after the device appeared\n", pid, (time.Since(start) - found).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "kbdwait: nobody opened %s in %v\n", node, timeout)
			os.Exit(1)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The holder grabs right after it opens: give it that moment, then
	// a grab of our own must fail as busy.
	time.Sleep(100 * time.Millisecond)
	f, err := os.OpenFile(node, os.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kbdwait:", err)
		os.Exit(1)
	}
	defer f.Close()
	err = unix.IoctlSetInt(int(f.Fd()), uapi.EVIOCGRAB, 1)
	switch {
	case errors.Is(err, unix.EBUSY):
		fmt.Println("grabbed by its holder")
	case err == nil:
		unix.IoctlSetInt(int(f.Fd()), uapi.EVIOCGRAB, 0)
		fmt.Fprintf(os.Stderr, "kbdwait: %s is open but not grabbed\n", node)
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "kbdwait: EVIOCGRAB %s: %v\n", node, err)
		os.Exit(1)
	}
}

// find returns /dev/input/eventN of the first evdev device whose name
// contains name, once its node exists.
func find(name string) string {
	devs, _ := filepath.Glob("/sys/class/input/event*")
	for _, d := range devs {
		b, err := os.ReadFile(filepath.Join(d, "device", "name"))
		if err != nil || !strings.Contains(string(b), name) {
			continue
		}
		node := "/dev/input/" + filepath.Base(d)
		if _, err := os.Stat(node); err == nil {
			return node
		}
	}
	return ""
}

// holder returns a process other than this one that has node open, or 0.
func holder(node string) int {
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	self := fmt.Sprintf("/proc/%d/", os.Getpid())
	for _, fd := range fds {
		if strings.HasPrefix(fd, self) {
			continue
		}
		if target, err := os.Readlink(fd); err == nil && target == node {
			var pid int
			fmt.Sscanf(strings.TrimPrefix(fd, "/proc/"), "%d", &pid)
			return pid
		}
	}
	return 0
}
