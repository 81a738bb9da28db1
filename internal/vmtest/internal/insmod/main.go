//go:build linux

// Command insmod loads kernel modules in the guest while a plan runs, in
// the order given, with finit_module: a driver that binds late, after the
// program under test started. A module already loaded is not an error.
// Usage: insmod FILE.ko...
package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: insmod FILE.ko...")
		os.Exit(2)
	}
	for _, p := range os.Args[1:] {
		if err := load(p); err != nil {
			fmt.Fprintln(os.Stderr, "insmod:", err)
			os.Exit(1)
		}
		fmt.Println("loaded", p)
	}
}

func load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("%s: finit_module: %w", path, err)
	}
	return nil
}
