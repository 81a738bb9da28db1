package vmtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill QEMU when the process that started
// it dies (a test binary killed on timeout), so no emulator outlives a run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
