package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// procsOn starts this test binary as main would start, on the CPUs in
// cpus (nil: this process's), with GOMAXPROCS=env when env is not "", and
// returns the CPUs and Ps it saw.
func procsOn(t *testing.T, cpus []int, env string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(withoutVar(os.Environ(), "GOMAXPROCS"), "BOOTSPLASH_TEST_PROCS=1")
	if env != "" {
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+env)
	}
	if cpus != nil {
		// The child inherits the affinity of the thread that forks it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var old, set unix.CPUSet
		if err := unix.SchedGetaffinity(0, &old); err != nil {
			t.Fatal(err)
		}
		defer unix.SchedSetaffinity(0, &old)
		for _, c := range cpus {
			set.Set(c)
		}
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			t.Fatal(err)
		}
	}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", cmd, err)
	}
	return strings.TrimSpace(string(out))
}

// withoutVar is env without the variable name.
func withoutVar(env []string, name string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, name+"=") {
			out = append(out, e)
		}
	}
	return out
}

// TestOneCPU: on one CPU main gives the runtime two Ps, unless GOMAXPROCS
// says otherwise; on more it leaves the runtime's own choice.
func TestOneCPU(t *testing.T) {
	var cur unix.CPUSet
	if err := unix.SchedGetaffinity(0, &cur); err != nil {
		t.Fatal(err)
	}
	first := -1
	for c := 0; c < 1024; c++ {
		if cur.IsSet(c) {
			first = c
			break
		}
	}
	if got := procsOn(t, []int{first}, ""); got != "1 2" {
		t.Errorf("on one CPU: CPUs and Ps %q, want \"1 2\"", got)
	}
	if got := procsOn(t, []int{first}, "1"); got != "1 1" {
		t.Errorf("on one CPU with GOMAXPROCS=1: %q, want \"1 1\"", got)
	}
	if n := cur.Count(); n > 1 {
		want := fmt.Sprintf("%d %d", n, n)
		if got := procsOn(t, nil, ""); got != want {
			t.Errorf("on %d CPUs: %q, want %q", n, got, want)
		}
	}
}
