package packaging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/vmtest"
)

// bootsplashBin is the static cmd/bootsplash that TestMain builds for the
// tests to install, run and copy into images.
var bootsplashBin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	root, err := vmtest.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "bootsplash-packaging-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bootsplashBin = filepath.Join(dir, "bootsplash")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := vmtest.GoBuild(ctx, root, "./cmd/bootsplash", bootsplashBin); err != nil {
		fmt.Fprintln(os.Stderr, "packaging:", err)
		return 1
	}
	return m.Run()
}

// here is the packaging directory (the tests run in it).
func here(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// shellFiles are the scripts this directory ships, and the shell that runs
// each one.
var shellFiles = []struct{ path, shell string }{
	{"bootsplash-helper", "sh"},
	{"initramfs-tools/hooks/bootsplash", "sh"},
	{"initramfs-tools/scripts/init-top/bootsplash", "sh"},
	{"initramfs-tools/scripts/init-bottom/bootsplash", "sh"},
	{"initramfs-tools/scripts/panic/bootsplash", "sh"},
	{"dracut/90bootsplash/module-setup.sh", "bash"},
	{"dracut/90bootsplash/bootsplash-pretrigger.sh", "sh"},
	{"dracut/90bootsplash/bootsplash-newroot.sh", "sh"},
	{"dracut/90bootsplash/bootsplash-emergency.sh", "sh"},
}

// What runs inside an initramfs built by initramfs-tools must also parse
// with klibc's sh, the shell of an initramfs without busybox.
var klibcSh = "/usr/lib/klibc/bin/sh"

func TestScriptsParseAndAreExecutable(t *testing.T) {
	for _, f := range shellFiles {
		p := here(t, f.path)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o111 != 0o111 {
			t.Errorf("%s: mode %v, want executable by all", f.path, fi.Mode().Perm())
		}
		if out, err := exec.Command(testutil.NeedCommand(t, f.shell), "-n", p).CombinedOutput(); err != nil {
			t.Errorf("%s -n %s: %v\n%s", f.shell, f.path, err, out)
		}
		if f.shell == "sh" && !strings.HasPrefix(f.path, "dracut/") {
			if _, err := os.Stat(klibcSh); err != nil {
				if testutil.RequireTools() {
					t.Fatalf("required under CI: %s (Debian package klibc-utils): %v", klibcSh, err)
				}
				continue
			}
			if out, err := exec.Command(klibcSh, "-n", p).CombinedOutput(); err != nil {
				t.Errorf("klibc sh -n %s: %v\n%s", f.path, err, out)
			}
		}
	}
}

// initramfs-tools orders scripts by what "SCRIPT prereqs" prints.
func TestInitramfsToolsPrereqs(t *testing.T) {
	for _, c := range []struct{ path, want string }{
		{"initramfs-tools/hooks/bootsplash", ""},
		{"initramfs-tools/scripts/init-top/bootsplash", ""},
		{"initramfs-tools/scripts/init-bottom/bootsplash", ""},
		{"initramfs-tools/scripts/panic/bootsplash", ""},
	} {
		cmd := exec.Command("sh", here(t, c.path), "prereqs")
		cmd.Env = append(os.Environ(), "DESTDIR=/nonexistent")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s prereqs: %v\n%s", c.path, err, out)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("%s prereqs printed %q, want %q", c.path, got, c.want)
		}
	}
}

// helperEnv is the environment that points the helper at a test daemon.
type helperEnv struct {
	dir, socket, defaults, cmdline, log string
}

func newHelperEnv(t *testing.T) *helperEnv {
	dir := t.TempDir()
	h := &helperEnv{
		dir:      dir,
		socket:   filepath.Join(dir, "run", "control"),
		defaults: filepath.Join(dir, "default"),
		cmdline:  filepath.Join(dir, "cmdline"),
		log:      filepath.Join(dir, "log"),
	}
	h.setCmdline(t, "quiet splash")
	// The emulated display, and no plymouth or psplash front end: other
	// tests may run a daemon of their own at the same time.
	h.setDefaults(t, fmt.Sprintf(`BOOTSPLASH_OPTS="--backend emu --out %s --plymouth=false --psplash=false"`, filepath.Join(dir, "frame.png")))
	t.Cleanup(func() { h.kill(t) })
	return h
}

func (h *helperEnv) setCmdline(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(h.cmdline, []byte(s+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (h *helperEnv) setDefaults(t *testing.T, s string) {
	t.Helper()
	if err := os.WriteFile(h.defaults, []byte(s+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (h *helperEnv) environ() []string {
	return append(os.Environ(),
		"BOOTSPLASH="+bootsplashBin,
		"BOOTSPLASH_SOCKET="+h.socket,
		"BOOTSPLASH_DEFAULTS="+h.defaults,
		"BOOTSPLASH_CMDLINE="+h.cmdline,
		"BOOTSPLASH_EXECDIR="+filepath.Join(h.dir, "exec"),
		"BOOTSPLASH_LOG="+h.log,
	)
}

// helper runs bootsplash-helper and returns its exit code and output.
func (h *helperEnv) helper(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", append([]string{here(t, "bootsplash-helper")}, args...)...)
	cmd.Env = h.environ()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	}
	t.Fatalf("bootsplash-helper %v: %v", args, err)
	return -1, ""
}

// daemons lists the pids of daemons serving this environment's socket, with
// their argv[0].
func (h *helperEnv) daemons() map[int]string {
	found := map[int]string{}
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(b, []byte(h.socket)) {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if len(args) < 2 || args[1] != "run" {
			continue
		}
		var pid int
		fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d", &pid)
		found[pid] = args[0]
	}
	return found
}

// kill ends any daemon a failed test left behind.
func (h *helperEnv) kill(t *testing.T) {
	for pid := range h.daemons() {
		t.Logf("killing leftover daemon %d", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func (h *helperEnv) logText(t *testing.T) string {
	b, err := os.ReadFile(h.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHelperEnabled(t *testing.T) {
	h := newHelperEnv(t)
	for _, c := range []struct {
		cmdline      string
		root, initrd bool
	}{
		{"", true, true},
		{"quiet splash", true, true},
		{"nosplash", false, false},
		{"quiet nosplash splash", true, true},
		{"bootsplash.enable=0", false, false},
		{"nosplash bootsplash.enable=1", true, true},
		{"splash bootsplash.enable=0", false, false},
		{"rd.bootsplash=0", true, false},
		{"nosplashy splashx bootsplash.enable=00", true, true},
	} {
		h.setCmdline(t, c.cmdline)
		if code, out := h.helper(t, "enabled"); (code == 0) != c.root {
			t.Errorf("cmdline %q: enabled exited %d, want enabled=%v\n%s", c.cmdline, code, c.root, out)
		}
		if code, out := h.helper(t, "enabled", "--initrd"); (code == 0) != c.initrd {
			t.Errorf("cmdline %q: enabled --initrd exited %d, want enabled=%v\n%s", c.cmdline, code, c.initrd, out)
		}
	}
}

// The helper drives the real daemon (on the emulated display) through every
// step the boot scripts and units use.
func TestHelperDrivesTheDaemon(t *testing.T) {
	h := newHelperEnv(t)
	withQuitUnit := filepath.Join(h.dir, "root-with-units")
	if err := os.MkdirAll(filepath.Join(withQuitUnit, "usr/lib/systemd/system"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(withQuitUnit, "usr/lib/systemd/system/bootsplash-quit.service"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	emptyRoot := t.TempDir()

	if code, out := h.helper(t, "should-start"); code != 0 {
		t.Fatalf("should-start with no daemon exited %d, want 0\n%s", code, out)
	}
	if code, out := h.helper(t, "start", "10"); code != 0 {
		t.Fatalf("start exited %d\n%s\nlog:\n%s", code, out, h.logText(t))
	}
	ds := h.daemons()
	if len(ds) != 1 {
		t.Fatalf("%d daemons on %s after start, want 1: %v", len(ds), h.socket, ds)
	}
	for pid, argv0 := range ds {
		if argv0 != "@bootsplash" {
			t.Errorf("daemon %d has argv[0] %q, want \"@bootsplash\" (so systemd spares it)", pid, argv0)
		}
	}
	if _, err := os.Stat(filepath.Join(h.dir, "frame.png")); err != nil {
		t.Errorf("no frame drawn: %v", err)
	}
	if code, _ := h.helper(t, "should-start"); code != 1 {
		t.Errorf("should-start with a daemon running exited %d, want 1 (skip the unit)", code)
	}
	if code, out := h.helper(t, "start", "10"); code != 0 || len(h.daemons()) != 1 {
		t.Errorf("a second start exited %d with %d daemons, want 0 and still 1\n%s", code, len(h.daemons()), out)
	}

	// A real root that will end the splash itself: it keeps running.
	if code, out := h.helper(t, "leave-initrd", withQuitUnit); code != 0 {
		t.Errorf("leave-initrd exited %d\n%s", code, out)
	}
	if code, _ := h.helper(t, "wait-ready", "1"); code != 0 {
		t.Fatalf("the daemon quit on leave-initrd although the root has bootsplash-quit.service\nlog:\n%s", h.logText(t))
	}

	// The display-manager handoff: nobody takes the DRM device here, so
	// it quits (retaining the frame) after its timeout.
	start := time.Now()
	if code, out := h.helper(t, "handoff", "1"); code != 0 {
		t.Errorf("handoff exited %d\n%s", code, out)
	}
	if code, out := h.helper(t, "wait-gone", "5"); code != 0 {
		t.Fatalf("the daemon is still up after handoff: %s", out)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("handoff took %v with a 1s limit", d)
	}
	if n := strings.Count(h.logText(t), "quit retain=true"); n != 1 {
		t.Errorf("log has %d retained quits after handoff, want 1:\n%s", n, h.logText(t))
	}

	// A real root with nothing to end it: leave-initrd quits, retaining.
	if code, out := h.helper(t, "start", "10"); code != 0 {
		t.Fatalf("start exited %d\n%s", code, out)
	}
	h.helper(t, "leave-initrd", emptyRoot)
	if code, out := h.helper(t, "wait-gone", "5"); code != 0 {
		t.Fatalf("leave-initrd into a root without bootsplash left the daemon running: %s", out)
	}
	if n := strings.Count(h.logText(t), "quit retain=true"); n != 2 {
		t.Errorf("log has %d retained quits, want 2:\n%s", n, h.logText(t))
	}

	// BOOTSPLASH_INITRD_QUIT=no leaves it to the system.
	h.setDefaults(t, fmt.Sprintf(`BOOTSPLASH_OPTS="--backend emu --out %s --plymouth=false --psplash=false"
BOOTSPLASH_INITRD_QUIT=no`, filepath.Join(h.dir, "frame.png")))
	if code, out := h.helper(t, "start", "10"); code != 0 {
		t.Fatalf("start exited %d\n%s", code, out)
	}
	h.helper(t, "leave-initrd", emptyRoot)
	if code, _ := h.helper(t, "wait-ready", "1"); code != 0 {
		t.Errorf("BOOTSPLASH_INITRD_QUIT=no: the daemon quit on leave-initrd")
	}
	if out, err := exec.Command(bootsplashBin, "ctl", "--socket", h.socket, "quit").CombinedOutput(); err != nil {
		t.Errorf("ctl quit: %v\n%s", err, out)
	}
	if code, out := h.helper(t, "wait-gone", "5"); code != 0 {
		t.Fatalf("still running after ctl quit: %s", out)
	}

	// Turned off on the command line: the units skip.
	h.setCmdline(t, "quiet nosplash")
	if code, _ := h.helper(t, "should-start"); code != 1 {
		t.Errorf("should-start with nosplash exited %d, want 1", code)
	}
}

// A daemon that cannot start is noticed at once, not after the timeout.
func TestHelperStartFailsFast(t *testing.T) {
	h := newHelperEnv(t)
	h.setDefaults(t, `BOOTSPLASH_THEME=/nonexistent/theme.toml
BOOTSPLASH_OPTS="--backend emu --plymouth=false --psplash=false"`)
	start := time.Now()
	code, out := h.helper(t, "start", "30")
	if code == 0 {
		t.Fatalf("start succeeded with no display device\n%s", out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("start took %v to notice the daemon had exited", d)
	}
	if !strings.Contains(out, "exited before it answered") {
		t.Errorf("start said %q, want it to say the daemon exited", out)
	}
	if !strings.Contains(h.logText(t), "/nonexistent/theme.toml") {
		t.Errorf("the daemon's log does not name the theme it failed on:\n%s", h.logText(t))
	}
}

// installUnits copies the units into dir with the installed paths replaced
// by the test's binary and helper, plus stand-ins for the units the
// drop-ins extend.
func installUnits(t *testing.T, dir string) {
	t.Helper()
	helper := filepath.Join(dir, "bootsplash-helper")
	copyFile(t, here(t, "bootsplash-helper"), helper, 0o755)
	bin := filepath.Join(dir, "bootsplash")
	copyFile(t, bootsplashBin, bin, 0o755)
	units := filepath.Join(dir, "units")
	src := here(t, "systemd")
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := strings.ReplaceAll(string(b), "/usr/libexec/bootsplash/bootsplash-helper", helper)
		s = strings.ReplaceAll(s, "/usr/bin/bootsplash", bin)
		rel, _ := filepath.Rel(src, p)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(units, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(units, rel), []byte(s), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	stub := fmt.Sprintf("[Service]\nExecStart=%s info\n", bin)
	for _, name := range []string{"display-manager.service", "getty@.service"} {
		if err := os.WriteFile(filepath.Join(units, name), []byte(stub), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, mode); err != nil {
		t.Fatal(err)
	}
}

var verifyUnits = []string{
	"bootsplash.service",
	"bootsplash-quit.service",
	"bootsplash-quit-wait.service",
	"bootsplash-shutdown.service",
	"display-manager.service",
	"getty@tty1.service",
}

func systemdVerify(t *testing.T, dir string) (string, error) {
	cmd := exec.Command(testutil.NeedCommand(t, "systemd-analyze"), append([]string{"verify"}, verifyUnits...)...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestSystemdUnitsVerify(t *testing.T) {
	testutil.NeedCommand(t, "systemd-analyze")
	dir := t.TempDir()
	installUnits(t, dir)
	units := filepath.Join(dir, "units")
	out, err := systemdVerify(t, units)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// verify reads the drop-ins: a key it does not know in each one is
	// reported against that file.
	for _, d := range []string{"display-manager.service.d/bootsplash.conf", "getty@tty1.service.d/bootsplash.conf"} {
		f, err := os.OpenFile(filepath.Join(units, d), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(f, "NoSuchKey=1")
		f.Close()
	}
	out, _ = systemdVerify(t, units)
	for _, d := range []string{"display-manager.service.d/bootsplash.conf", "getty@tty1.service.d/bootsplash.conf"} {
		if !strings.Contains(out, d) || !strings.Contains(out, "NoSuchKey") {
			t.Errorf("systemd-analyze verify did not read %s:\n%s", d, out)
		}
	}
}

// unitKeys parses a unit file into "Section.Key" -> values.
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(here(t, path))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			k, v, _ := strings.Cut(line, "=")
			keys[section+"."+k] = append(keys[section+"."+k], v)
		}
	}
	return keys
}

// What the units promise, beyond what systemd-analyze checks.
func TestSystemdUnitsPromises(t *testing.T) {
	start := unitKeys(t, "systemd/bootsplash.service")
	for key, want := range map[string]string{
		"Unit.DefaultDependencies": "no",
		"Unit.IgnoreOnIsolate":     "yes",
		"Service.ExecCondition":    "/usr/libexec/bootsplash/bootsplash-helper should-start --boot",
	} {
		if got := start[key]; len(got) != 1 || got[0] != want {
			t.Errorf("bootsplash.service %s = %q, want %q", key, got, want)
		}
	}
	for _, name := range []string{"systemd/bootsplash.service", "systemd/bootsplash-shutdown.service"} {
		keys := unitKeys(t, name)
		exec := keys["Service.ExecStart"]
		if len(exec) != 1 || !strings.HasPrefix(exec[0], "@/usr/bin/bootsplash @bootsplash run --backend auto ") {
			t.Errorf("%s ExecStart = %q, want argv[0] @bootsplash and the auto backend", name, exec)
		}
		if env := keys["Service.Environment"]; !slices.Contains(env, "BOOTSPLASH_BOOT=1") {
			t.Errorf("%s Environment = %q, want BOOTSPLASH_BOOT=1 (auto: the card, the firmware framebuffer, or wait; never a file)", name, env)
		}
		// run sends READY=1 once the first frame is up and it answers.
		if got := keys["Service.Type"]; len(got) != 1 || got[0] != "notify" {
			t.Errorf("%s Type = %q, want notify", name, got)
		}
	}
	quit := unitKeys(t, "systemd/bootsplash-quit.service")
	if got := quit["Service.ExecStart"]; len(got) != 1 || got[0] != "-/usr/bin/bootsplash ctl quit --retain" {
		t.Errorf("bootsplash-quit.service ExecStart = %q, want a retained quit", got)
	}
	dm := unitKeys(t, "systemd/display-manager.service.d/bootsplash.conf")
	if got := strings.Join(dm["Unit.Conflicts"], " "); got != "bootsplash-quit.service" {
		t.Errorf("the display manager drop-in conflicts with %q, want bootsplash-quit.service", got)
	}
	if got := strings.Join(dm["Service.ExecStartPre"], " "); got != "-/usr/bin/bootsplash ctl deactivate" {
		t.Errorf("the display manager drop-in ExecStartPre = %q, want a deactivate", got)
	}
	rule, err := os.ReadFile(here(t, "udev/71-bootsplash.rules"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rule), `ENV{SYSTEMD_WANTS}+="bootsplash.service"`) || !strings.Contains(string(rule), `SUBSYSTEM=="drm"`) {
		t.Errorf("the udev rule does not want bootsplash.service for DRM devices:\n%s", rule)
	}
	if !strings.Contains(string(rule), `SUBSYSTEM=="graphics", KERNEL=="fb[0-9]*", TAG+="systemd", ENV{SYSTEMD_WANTS}+="bootsplash.service"`) {
		t.Errorf("the udev rule does not want bootsplash.service for firmware framebuffers:\n%s", rule)
	}
}

// A theme directory with a logo beside the theme file.
func writeTheme(t *testing.T, dir, logo string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := vmtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	copyFile(t, filepath.Join(root, "splash/theme/assets/logo.png"), filepath.Join(dir, "logo.png"), 0o644)
	theme := filepath.Join(dir, "theme.toml")
	if err := os.WriteFile(theme, []byte(fmt.Sprintf("[background]\ncolor = \"#102030\"\n\n[logo]\nimage = %q\n", logo)), 0o644); err != nil {
		t.Fatal(err)
	}
	return theme
}

// runHook runs the initramfs-tools hook with Debian's real hook-functions
// into a fresh DESTDIR.
func runHook(t *testing.T, env ...string) (destdir, out string) {
	t.Helper()
	destdir = t.TempDir()
	cmd := exec.Command("sh", here(t, "initramfs-tools/hooks/bootsplash"))
	cmd.Env = append(os.Environ(), "DESTDIR="+destdir, "MODULES=list", "verbose=n", "version=0.0.0-test", "MODULESDIR=/nonexistent")
	cmd.Env = append(cmd.Env, env...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the hook failed: %v\n%s", err, b)
	}
	return destdir, string(b)
}

func assertExecutable(t *testing.T, path string, same string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("missing: %v", err)
		return
	}
	if fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s: mode %v, not executable", path, fi.Mode().Perm())
	}
	if same != "" {
		a, _ := os.ReadFile(path)
		b, _ := os.ReadFile(same)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from %s", path, same)
		}
	}
}

func TestInitramfsToolsHook(t *testing.T) {
	testutil.NeedCommand(t, "mkinitramfs")
	testutil.NeedPath(t, "/usr/share/initramfs-tools/hook-functions")
	dir := t.TempDir()
	theme := writeTheme(t, filepath.Join(dir, "themes", "good"), "logo.png")
	defaults := filepath.Join(dir, "default")
	if err := os.WriteFile(defaults, []byte(fmt.Sprintf("BOOTSPLASH_THEME=%q\nBOOTSPLASH_OPTS=\"--rotate 90\"\n", theme)), 0o644); err != nil {
		t.Fatal(err)
	}
	helper := here(t, "bootsplash-helper")
	env := []string{"BOOTSPLASH=" + bootsplashBin, "BOOTSPLASH_HELPER=" + helper, "BOOTSPLASH_DEFAULTS=" + defaults}

	destdir, out := runHook(t, env...)
	assertExecutable(t, filepath.Join(destdir, "usr/bin/bootsplash"), bootsplashBin)
	assertExecutable(t, filepath.Join(destdir, "usr/libexec/bootsplash/bootsplash-helper"), helper)
	if b, err := os.ReadFile(filepath.Join(destdir, "etc/default/bootsplash")); err != nil || !strings.Contains(string(b), "--rotate 90") {
		t.Errorf("etc/default/bootsplash in the initramfs: %v %q", err, b)
	}
	for _, f := range []string{"theme.toml", "logo.png"} {
		if _, err := os.Stat(filepath.Join(destdir, filepath.Dir(theme), f)); err != nil {
			t.Errorf("the theme's %s is not in the initramfs at its own path: %v", f, err)
		}
	}
	if !strings.Contains(out, "MODULES=list") {
		t.Errorf("the hook did not warn that MODULES=list leaves the display driver out:\n%s", out)
	}
	// The theme's first frame is drawn at build time for run --theme.
	if b := frameHeader(t, destdir); !bytes.Contains(b, []byte(theme)) {
		t.Errorf("the initramfs's pre-rendered frame is not drawn for the theme %s (header %q)", theme, b)
	}

	// A theme with mistakes stays out, and the initramfs falls back to the
	// built-in one.
	bad := writeTheme(t, filepath.Join(dir, "themes", "bad"), "no-such-logo.png")
	if err := os.WriteFile(defaults, []byte(fmt.Sprintf("BOOTSPLASH_THEME=%q\n", bad)), 0o644); err != nil {
		t.Fatal(err)
	}
	destdir, out = runHook(t, env...)
	if !strings.Contains(out, "has mistakes") || !strings.Contains(out, "no-such-logo.png") {
		t.Errorf("the hook did not report the broken theme:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(destdir, bad)); err == nil {
		t.Errorf("the broken theme was copied into the initramfs")
	}
	b, _ := os.ReadFile(filepath.Join(destdir, "etc/default/bootsplash"))
	if !strings.HasSuffix(string(b), "BOOTSPLASH_THEME=\"\"\n") {
		t.Errorf("etc/default/bootsplash does not fall back to the built-in theme:\n%s", b)
	}
	// The built-in theme's first frame is drawn at build time, raw, for
	// run to copy to the screen before it renders.
	if b := frameHeader(t, destdir); bytes.Contains(b, []byte(dir)) {
		t.Errorf("the initramfs's pre-rendered frame is drawn for a theme, not the built-in one (header %q)", b)
	}

	// No binary: no splash, and no failure of the whole initramfs.
	destdir, out = runHook(t, "BOOTSPLASH=/nonexistent/bootsplash", "BOOTSPLASH_HELPER="+helper)
	if !strings.Contains(out, "no splash in the initramfs") {
		t.Errorf("the hook did not say why it added nothing:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(destdir, "usr/bin/bootsplash")); err == nil {
		t.Errorf("the hook copied something with no binary")
	}
}

// frameHeader returns the start of the pre-rendered 1024x768 first frame
// in the initramfs tree destdir, after checking that it is a frame file
// of that size.
func frameHeader(t *testing.T, destdir string) []byte {
	t.Helper()
	p := filepath.Join(destdir, "usr/lib/bootsplash/frames/1024x768-XRGB8888.frame")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("the initramfs has no pre-rendered 1024x768 first frame: %v", err)
		return nil
	}
	if !bytes.HasPrefix(b, []byte("BSFRAME2")) || len(b) <= 1024*768*4 || len(b) > 1024*768*4+64<<10 {
		t.Errorf("%s: %d bytes, not a 1024x768 frame file", p, len(b))
		return nil
	}
	return b[:len(b)-1024*768*4]
}

// needRoot skips unless the test runs as root (as it does under CI, where
// it fails instead).
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if testutil.RequireTools() {
			t.Fatalf("required under CI: root, to %s", why)
		}
		t.Skipf("not root: cannot %s", why)
	}
}

// inNamespace runs script with sh in a private mount namespace, where the
// pinned kernel's modules appear under /usr/lib/modules and its config
// under /boot without touching the host's.
func inNamespace(t *testing.T, kernel *vmtest.KernelTree, work, script string, env ...string) string {
	t.Helper()
	upper, ovwork, boot := filepath.Join(work, "upper"), filepath.Join(work, "ovwork"), filepath.Join(work, "boot")
	for _, d := range []string{upper, ovwork, boot} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join(kernel.Dir, "boot", "config-"+kernel.Release), filepath.Join(boot, "config-"+kernel.Release), 0o644)
	setup := fmt.Sprintf("set -e\nmount -t overlay overlay -o lowerdir=/usr/lib:%s,upperdir=%s,workdir=%s /usr/lib\nmount --bind %s /boot\n",
		filepath.Join(kernel.Dir, "lib"), upper, ovwork, boot)
	cmd := exec.Command(testutil.NeedCommand(t, "unshare"), "--mount", "--propagation", "private", "sh", "-c", setup+script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a mount namespace: %v\n%s", err, out)
	}
	return string(out)
}

// A real initramfs built by Debian's mkinitramfs for the pinned 6.12
// kernel, with the hook and scripts installed as a local configuration.
// Then its own init-top and init-bottom scripts run, chrooted into the
// unpacked image under its own shell, and start and hand over the daemon.
func TestMkinitramfs(t *testing.T) {
	mk := testutil.NeedCommand(t, "mkinitramfs")
	unmk := testutil.NeedCommand(t, "unmkinitramfs")
	needRoot(t, "build an initramfs against the pinned kernel in a private mount namespace")
	t.Parallel()
	root, err := vmtest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	kernel, err := vmtest.FetchKernel(ctx, vmtest.CacheDir(root), vmtest.Kernel612)
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	conf := filepath.Join(work, "conf")
	for _, d := range []string{"hooks", "scripts/init-top", "scripts/init-bottom", "scripts/panic"} {
		if err := os.MkdirAll(filepath.Join(conf, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, here(t, "initramfs-tools/hooks/bootsplash"), filepath.Join(conf, "hooks/bootsplash"), 0o755)
	for _, s := range []string{"init-top", "init-bottom", "panic"} {
		copyFile(t, here(t, "initramfs-tools/scripts/"+s+"/bootsplash"), filepath.Join(conf, "scripts", s, "bootsplash"), 0o755)
	}
	// MODULES=list with the cirrus driver named: a small image that still
	// holds a display driver and its dependencies.
	if err := os.WriteFile(filepath.Join(conf, "initramfs.conf"), []byte("MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(conf, "modules"), []byte("cirrus\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	theme := writeTheme(t, filepath.Join(work, "theme"), "logo.png")
	defaults := filepath.Join(work, "default")
	// The emulated display, so the daemon can run in the chroot below.
	if err := os.WriteFile(defaults, []byte(fmt.Sprintf("BOOTSPLASH_THEME=%q\nBOOTSPLASH_OPTS=\"--backend emu --out /run/frame.png --plymouth=false --psplash=false\"\n", theme)), 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(work, "initrd.img")
	inNamespace(t, kernel, work, fmt.Sprintf("%s -d %s -o %s %s\n", mk, conf, img, kernel.Release),
		"BOOTSPLASH="+bootsplashBin, "BOOTSPLASH_HELPER="+here(t, "bootsplash-helper"), "BOOTSPLASH_DEFAULTS="+defaults)

	unpacked := filepath.Join(work, "unpacked")
	if out, err := exec.Command(unmk, img, unpacked).CombinedOutput(); err != nil {
		t.Fatalf("unmkinitramfs: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(unpacked, "main")); err == nil {
		unpacked = filepath.Join(unpacked, "main") // after an early (microcode) archive
	}
	assertExecutable(t, filepath.Join(unpacked, "usr/bin/bootsplash"), bootsplashBin)
	assertExecutable(t, filepath.Join(unpacked, "usr/libexec/bootsplash/bootsplash-helper"), here(t, "bootsplash-helper"))
	for _, s := range []string{"init-top", "init-bottom", "panic"} {
		assertExecutable(t, filepath.Join(unpacked, "scripts", s, "bootsplash"), here(t, "initramfs-tools/scripts/"+s+"/bootsplash"))
	}
	for _, f := range []string{"theme.toml", "logo.png"} {
		if _, err := os.Stat(filepath.Join(unpacked, filepath.Dir(theme), f)); err != nil {
			t.Errorf("the theme's %s is not in the image: %v", f, err)
		}
	}
	mods, _ := filepath.Glob(filepath.Join(unpacked, "usr/lib/modules", kernel.Release, "kernel/drivers/gpu/drm/tiny/cirrus.ko*"))
	if len(mods) != 1 {
		t.Errorf("cirrus is not in the image (%v)", mods)
	}
	// No PREREQ: the splash starts before udev loads the drivers, on the
	// firmware framebuffer or waiting for the first card.
	order, err := os.ReadFile(filepath.Join(unpacked, "scripts/init-top/ORDER"))
	if err != nil {
		t.Fatal(err)
	}
	u, b := strings.Index(string(order), "/scripts/init-top/udev"), strings.Index(string(order), "/scripts/init-top/bootsplash")
	if u < 0 || b < 0 || b > u {
		t.Errorf("init-top/ORDER does not run bootsplash before udev:\n%s", order)
	}
	if order, err := os.ReadFile(filepath.Join(unpacked, "scripts/init-bottom/ORDER")); err != nil || !strings.Contains(string(order), "/scripts/init-bottom/bootsplash") {
		t.Errorf("init-bottom/ORDER does not run bootsplash: %v\n%s", err, order)
	}

	// Run the image's own init-top and init-bottom scripts under its own
	// shell. The real root (/root here) has no bootsplash, so init-bottom
	// ends the splash, retaining the frame.
	if err := os.WriteFile(filepath.Join(unpacked, "cmdline"), []byte("quiet splash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"proc", "run", "root", "dev"} {
		if err := os.MkdirAll(filepath.Join(unpacked, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := fmt.Sprintf(`mount -t proc proc %[1]s/proc
mount -t tmpfs tmpfs %[1]s/run
mount --bind /dev %[1]s/dev
mkdir -p %[1]s/run/initramfs
chroot %[1]s /bin/sh -c '
# What the initramfs init exports to its scripts.
export BOOTSPLASH_CMDLINE=/cmdline rootmnt=/root quiet=y
/scripts/init-top/bootsplash
/usr/bin/bootsplash ctl ping && echo PING-OK
/scripts/init-bottom/bootsplash
/usr/libexec/bootsplash/bootsplash-helper wait-gone 5 && echo GONE
cat /run/initramfs/bootsplash.log
test -s /run/frame.png && echo FRAME-OK
'
`, unpacked)
	leftovers := func() map[int]string {
		found := map[int]string{}
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			b, err := os.ReadFile(p)
			if err != nil || !bytes.Contains(b, []byte("--out\x00/run/frame.png")) {
				continue
			}
			var pid int
			fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d", &pid)
			found[pid] = strings.Split(string(b), "\x00")[0]
		}
		return found
	}
	t.Cleanup(func() {
		for pid := range leftovers() {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	out := inNamespace(t, kernel, work, script)
	for _, want := range []string{"PING-OK", "GONE", "first frame", "quit retain=true", "FRAME-OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("running the image's scripts: no %q in:\n%s", want, out)
		}
	}
	if l := leftovers(); len(l) > 0 {
		t.Errorf("daemons still running after init-bottom: %v\n%s", l, out)
	}
}

// dracutTree is dracut's base directory rebuilt of symlinks with this
// module added to modules.d, for dracut's $dracutbasedir.
func dracutTree(t *testing.T) string {
	t.Helper()
	base := filepath.Join(t.TempDir(), "dracut")
	if err := os.MkdirAll(filepath.Join(base, "modules.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	const system = "/usr/lib/dracut"
	entries, err := os.ReadDir(system)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == "modules.d" {
			continue
		}
		if err := os.Symlink(filepath.Join(system, e.Name()), filepath.Join(base, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	mods, err := os.ReadDir(filepath.Join(system, "modules.d"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		if err := os.Symlink(filepath.Join(system, "modules.d", m.Name()), filepath.Join(base, "modules.d", m.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(here(t, "dracut/90bootsplash"), filepath.Join(base, "modules.d", "90bootsplash")); err != nil {
		t.Fatal(err)
	}
	return base
}

// Images built by dracut (no kernel: the module's files, not the drivers)
// with and without systemd in the initramfs, checked with lsinitrd.
func TestDracut(t *testing.T) {
	dracut := testutil.NeedCommand(t, "dracut")
	lsinitrd := testutil.NeedCommand(t, "lsinitrd")
	testutil.NeedCommand(t, "systemd-analyze") // the systemd case installs systemd's own files
	t.Parallel()
	base := dracutTree(t)
	work := t.TempDir()
	theme := writeTheme(t, filepath.Join(work, "theme"), "logo.png")
	defaults := filepath.Join(work, "default")
	if err := os.WriteFile(defaults, []byte(fmt.Sprintf("BOOTSPLASH_THEME=%q\nBOOTSPLASH_OPTS=\"--rotate 180\"\n", theme)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(work, "confdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, modules string
		want, notWant []string
	}{
		{"scripts", "base bootsplash", []string{
			"usr/lib/dracut/hooks/pre-trigger/10-bootsplash-pretrigger.sh",
			"usr/lib/dracut/hooks/pre-pivot/90-bootsplash-newroot.sh",
			"usr/lib/dracut/hooks/emergency/50-bootsplash-emergency.sh",
		}, []string{"bootsplash.service"}},
		{"systemd", "systemd base bootsplash", []string{
			"usr/lib/systemd/system/bootsplash.service",
			"etc/udev/rules.d/71-bootsplash.rules",
			"usr/lib/dracut/hooks/emergency/50-bootsplash-emergency.sh",
		}, []string{"10-bootsplash-pretrigger.sh"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			img := filepath.Join(work, c.name+".img")
			cmd := exec.Command(dracut, "--no-kernel", "--no-hostonly", "--force", "--modules", c.modules,
				"--conf", "/dev/null", "--confdir", filepath.Join(work, "confdir"), "--tmpdir", work, img)
			cmd.Env = append(os.Environ(),
				"dracutbasedir="+base,
				"BOOTSPLASH="+bootsplashBin,
				"BOOTSPLASH_HELPER="+here(t, "bootsplash-helper"),
				"BOOTSPLASH_DEFAULTS="+defaults,
				"BOOTSPLASH_UNITDIR="+here(t, "systemd"),
				"BOOTSPLASH_RULE="+here(t, "udev/71-bootsplash.rules"),
			)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("dracut: %v\n%s", err, out)
			}
			list, err := exec.Command(lsinitrd, img).Output()
			if err != nil {
				t.Fatalf("lsinitrd: %v", err)
			}
			files := map[string]string{} // path -> mode
			for _, line := range strings.Split(string(list), "\n") {
				f := strings.Fields(line)
				if len(f) >= 9 && len(f[0]) == 10 {
					files[f[8]] = f[0]
				}
			}
			want := append([]string{"usr/bin/bootsplash", "usr/libexec/bootsplash/bootsplash-helper"}, c.want...)
			for _, p := range want {
				mode, ok := files[p]
				if !ok {
					t.Errorf("%s is not in the image", p)
				} else if !strings.HasSuffix(p, ".service") && !strings.HasSuffix(p, ".rules") && mode[3] != 'x' {
					t.Errorf("%s has mode %s, want executable", p, mode)
				}
			}
			for _, p := range []string{strings.TrimPrefix(theme, "/"), strings.TrimPrefix(filepath.Join(filepath.Dir(theme), "logo.png"), "/")} {
				if _, ok := files[p]; !ok {
					t.Errorf("the theme file %s is not in the image", p)
				}
			}
			for p := range files {
				for _, bad := range c.notWant {
					if strings.HasSuffix(p, bad) {
						t.Errorf("%s is in the image, want it only in the other kind", p)
					}
				}
			}
			def, err := exec.Command(lsinitrd, "-f", "etc/default/bootsplash", img).Output()
			if err != nil || !strings.Contains(string(def), "--rotate 180") {
				t.Errorf("etc/default/bootsplash in the image: %v\n%s", err, def)
			}
		})
	}
}
