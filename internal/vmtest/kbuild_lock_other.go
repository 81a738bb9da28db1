//go:build !linux

package vmtest

import (
	"context"
	"errors"
	"os/exec"
)

// lockFile: building kernels needs Linux (Debian's cross compilers).
func lockFile(ctx context.Context, path string) (func(), error) {
	return nil, errors.New("building kernels needs Linux")
}

func killGroupOnCancel(cmd *exec.Cmd) {}
