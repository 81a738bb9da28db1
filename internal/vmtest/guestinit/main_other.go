//go:build !linux

package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "guestinit: runs only as PID 1 of the Linux test VM")
	os.Exit(2)
}
