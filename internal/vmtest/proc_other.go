//go:build !linux

package vmtest

import "os/exec"

// dieWithParent has no portable equivalent off Linux; Boot still kills
// QEMU on every path it returns by.
func dieWithParent(cmd *exec.Cmd) {}
