//go:build !linux

package display

import "errors"

func mkfifo(string) error { return errors.ErrUnsupported }
