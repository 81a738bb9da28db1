//go:build !preview

package main

import (
	"errors"
	"io"
)

// cmdPreview needs the OpenGL window, which only a cgo build with
// -tags preview has.
func cmdPreview(args []string, stderr io.Writer) error {
	return errors.New("preview: this bootsplash was built without -tags preview (go build -tags preview ./cmd/bootsplash)")
}
