// Command ttff-start is a Go program's start, for the VM suite's in-guest
// clock (internal/vmtest/testdata/ttff_time.c): it writes one line at main
// and exits. Beside ttff_start.c (the same in C) it shows what the Go
// runtime does before main: its own set-up, its threads and its page
// faults, with no package of this project linked.
package main

import "syscall"

func main() {
	syscall.Write(2, []byte("ttff-start: main\n"))
}
