package main

import (
	"bytes"
	"strconv"
	"syscall"
	"time"
)

// beforeMain returns how long the process ran before main: the main
// thread's time on a CPU plus its time waiting for one, from the
// scheduler's account in /proc/self/schedstat (nanoseconds, unlike the
// 10 ms ticks of /proc/self/stat's start time). It covers exec, the
// dynamic-loader-free start of a static binary, page faults, the runtime's
// start and every package's init; only time asleep is left out, and the
// main thread does not sleep on its way to main. 0 when unknown.
//
// It reads the file with plain system calls: os.ReadFile would set up the
// runtime's poller (four more calls, and the monitor's polling) in the
// run it accounts for.
func beforeMain() time.Duration {
	fd, err := syscall.Open("/proc/self/schedstat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	var buf [128]byte
	n, err := syscall.Read(fd, buf[:])
	syscall.Close(fd)
	if err != nil || n <= 0 {
		return 0
	}
	f := bytes.Fields(buf[:n])
	if len(f) < 2 {
		return 0
	}
	run, err1 := strconv.ParseInt(string(f[0]), 10, 64)
	wait, err2 := strconv.ParseInt(string(f[1]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(run + wait)
}
