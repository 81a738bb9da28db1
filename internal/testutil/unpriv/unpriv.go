// Package unpriv runs a test again as an unprivileged user, for the tests
// that check what a user without access to the device nodes is told. The
// tests run as root in the VM and in CI, where the kernel never refuses an
// open (CAP_DAC_OVERRIDE); a copy of the test binary started as nobody
// meets the real refusals.
package unpriv

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// The user and group the child runs as: nobody and nogroup.
const (
	UID = 65534
	GID = 65534
)

// childEnv marks the re-executed copy of the test binary.
const childEnv = "BOOTSPLASH_UNPRIV_CHILD"

// Child reports whether this process is the copy Run started: the test
// then does the unprivileged part and returns.
func Child() bool { return os.Getenv(childEnv) == "1" }

// Run starts (a copy of) the test binary again as UID:GID with no supplementary groups,
// running only the current top-level test, and returns the child's output
// (its -test.v log). It fails t when the child fails or does not run the
// test. Only root can start a child as another user: elsewhere the test is
// skipped (failed inside the VM). prepare, if not nil, may adjust the
// command (its environment) before it starts.
func Run(t *testing.T, prepare func(*exec.Cmd)) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testutil.Unavailable(t, "starting a test as uid %d needs root (running as uid %d)", UID, os.Geteuid())
	}
	name, _, _ := strings.Cut(t.Name(), "/")
	bin := copyBinary(t)
	cmd := exec.Command(bin, "-test.run=^"+regexp.QuoteMeta(name)+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: UID, Gid: GID, Groups: []uint32{}}}
	if prepare != nil {
		prepare(cmd)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the test as uid %d: %v; its output:\n%s", UID, err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("the test as uid %d did not run %s; its output:\n%s", UID, name, out)
	}
	return string(out)
}

// copyBinary copies the test binary where UID may run it: `go test` keeps
// it in a directory only its owner may enter.
func copyBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "unpriv")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, filepath.Base(self))
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
