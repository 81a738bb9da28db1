package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/bootsplash/bootsplash", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"},
			{Key: "vcs.time", Value: "2026-12-02T12:00:00Z"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm"}, {Key: "CGO_ENABLED", Value: "0"}}}
	want := "bootsplash v1.2.3\nmodule: github.com/bootsplash/bootsplash\nrevision: 0123456789abcdef (modified), committed 2026-12-02T12:00:00Z\ngo: go1.26.8 linux/arm, CGO_ENABLED=0\n"
	if got := versionText(bi); got != want {
		t.Errorf("versionText:\n%s\nwant:\n%s", got, want)
	}
	bi.Settings = nil
	if got := versionText(bi); !strings.Contains(got, "revision: unknown") {
		t.Errorf("no VCS information:\n%s", got)
	}
}

// The built binary's --version and version name the commit it was built
// from, whether the tree had changes, and the Go that built it. The
// module is copied into a repository of its own: Go stamps no revision in
// a linked git worktree (go.dev/issue/58218), and the copy also carries
// the changes not yet committed here.
func TestVersionOfBuiltBinary(t *testing.T) {
	gitBin, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("the test needs git (Debian package git): %v", err)
	}
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gitBin, append([]string{"-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	files, err := exec.Command(gitBin, "-C", "../..", "ls-files", "-co", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(string(files)) {
		data, err := os.ReadFile(filepath.Join("../..", f))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(repo, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "version test")
	head := git("rev-parse", "HEAD")

	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "bootsplash")
	version := func(arg string) string {
		t.Helper()
		build := exec.Command(goBin, "build", "-o", bin, "./cmd/bootsplash")
		build.Dir = repo
		build.Env = append(build.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=true")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		out, err := exec.Command(bin, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("bootsplash %s: %v\n%s", arg, err, out)
		}
		return string(out)
	}
	for _, arg := range []string{"--version", "version"} {
		out := version(arg)
		for _, want := range []string{
			// Go 1.24 and later derive a pseudo-version from the commit.
			"bootsplash v0.0.0-",
			head[:12] + "\n",
			"module: github.com/bootsplash/bootsplash\n",
			"revision: " + head + ", committed ",
			"go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ", CGO_ENABLED=0\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("bootsplash %s lacks %q:\n%s", arg, want, out)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := version("--version"); !strings.Contains(out, "revision: "+head+" (modified), committed ") {
		t.Errorf("a build from a changed tree does not say so:\n%s", out)
	}
}
