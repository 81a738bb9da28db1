// Command passcheck stands in for cryptsetup in the VM tests: it reads a
// passphrase on its standard input, as `plymouth ask-for-password
// --command` hands it, appends what it read and a newline to LOG, and
// exits 0 if it is WANT, 1 otherwise.
//
// Usage: passcheck WANT LOG, or passcheck --show LOG to print LOG.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "--show" {
		b, err := os.ReadFile(os.Args[2])
		if err != nil {
			fmt.Fprintln(os.Stderr, "passcheck:", err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
		return
	}
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: passcheck WANT LOG")
		os.Exit(2)
	}
	got, err := io.ReadAll(io.LimitReader(os.Stdin, 4096))
	if err != nil {
		fmt.Fprintln(os.Stderr, "passcheck:", err)
		os.Exit(2)
	}
	f, err := os.OpenFile(os.Args[2], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "passcheck:", err)
		os.Exit(2)
	}
	f.Write(append(bytes.Clone(got), '\n'))
	f.Close()
	if string(got) != os.Args[1] {
		os.Exit(1)
	}
}
