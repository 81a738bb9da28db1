// Command headcheck reads the first N bytes of a file or block device in
// the VM tests and prints their SHA-256 and their first line, so that the
// host can check what a device holds without the device's whole content
// crossing the control line.
//
// Usage: headcheck FILE N
package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: headcheck FILE N")
		os.Exit(2)
	}
	n, err := strconv.ParseInt(os.Args[2], 10, 64)
	if err != nil || n <= 0 {
		fmt.Fprintf(os.Stderr, "headcheck: N %q is not a positive number\n", os.Args[2])
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "headcheck:", err)
		os.Exit(1)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(f, b); err != nil {
		fmt.Fprintf(os.Stderr, "headcheck: read %d bytes of %s: %v\n", n, os.Args[1], err)
		os.Exit(1)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	fmt.Printf("sha256 %x\nfirst line %q\n", sha256.Sum256(b), line)
}
