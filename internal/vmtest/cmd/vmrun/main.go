// Command vmrun boots the test VM by hand, for debugging: it fetches the
// kernel, builds the guest init, puts the given files and test binaries into
// the initramfs, runs the given commands in the guest with their output
// streamed to the terminal, and can take a screendump while a background
// command runs.
//
//	go run ./internal/vmtest/cmd/vmrun --device cirrus --test ./access -- -test.run TestHeap
//	go run ./internal/vmtest/cmd/vmrun --device bochs --file ./bootsplash \
//	    --bg "/bin/bootsplash run -v" --wait-for "first frame" --screendump shot.ppm
//	GOARCH=arm64 CGO_ENABLED=0 go build -o /tmp/bootsplash-arm64 ./cmd/bootsplash
//	go run ./internal/vmtest/cmd/vmrun --board arm64-virt --file /tmp/bootsplash-arm64:/bin/bootsplash \
//	    --bg "/bin/bootsplash run -v" --wait-for "first frame" --screendump shot.ppm
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/bootsplash/bootsplash/internal/vmtest"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vmrun:", err)
		os.Exit(1)
	}
}

func run() error {
	kernel := pflag.String("kernel", "", `kernel: "6.12", "6.1", "arm64", "riscv64", or a Debian package name (default: the board's Debian kernel)`)
	board := pflag.String("board", "pc", "board: pc, arm64-virt or riscv64-virt")
	device := pflag.String("device", "", "display device: cirrus, bochs, virtio or bochs-display (default: cirrus on pc, virtio elsewhere)")
	files := pflag.StringArray("file", nil, "host file to put into the guest, as HOST[:GUEST] (default GUEST: /bin/BASENAME)")
	tests := pflag.StringArray("test", nil, "package whose test binary runs in the guest (-test.v; args after -- are added)")
	cmds := pflag.StringArray("run", nil, "command to run in the guest (split at spaces)")
	bg := pflag.String("bg", "", "command to start in the background after --test and --run")
	waitFor := pflag.String("wait-for", "", "text the background command's output must contain before going on")
	shot := pflag.String("screendump", "", "take a screendump into this PPM file while the background command runs")
	writes := pflag.StringArray("write", nil, "write to a guest file after the background command started, as PATH=DATA")
	params := pflag.StringArray("param", nil, "module parameters, as MODULE=PARAMS (\"drm_kms_helper=fbdev_emulation=0\")")
	keep := pflag.String("keep", "", "keep the initramfs, console log and transcript in this directory")
	timeout := pflag.Duration("timeout", 3*time.Minute, "bound on the whole boot")
	quiet := pflag.BoolP("quiet", "q", false, "do not stream console and step output")
	pflag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := vmtest.RepoRoot()
	if err != nil {
		return err
	}
	b := vmtest.Board(*board)
	arch := b.Arch()
	if arch == "" {
		return fmt.Errorf("unknown board %q", *board)
	}
	pkg := *kernel
	switch pkg {
	case "6.12":
		pkg = vmtest.Kernel612
	case "6.1":
		pkg = vmtest.Kernel61
	case "arm64":
		pkg = vmtest.KernelArm64
	case "riscv64":
		pkg = vmtest.KernelRISCV64
	case "":
		pkg = map[vmtest.Arch]string{vmtest.AMD64: vmtest.Kernel612, vmtest.ARM64: vmtest.KernelArm64, vmtest.RISCV64: vmtest.KernelRISCV64}[arch]
	}
	if *device == "" {
		*device = "virtio"
		if b == vmtest.PC {
			*device = "cirrus"
		}
	}
	k, err := vmtest.FetchKernel(ctx, vmtest.CacheDir(root), pkg)
	if err != nil {
		return err
	}
	build, err := os.MkdirTemp("", "vmrun-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(build)
	guestInit, err := vmtest.BuildGuestInitFor(ctx, root, arch, build)
	if err != nil {
		return err
	}

	cfg := vmtest.Config{
		Kernel:    k,
		Board:     b,
		Device:    vmtest.Device(*device),
		GuestInit: guestInit,
		WorkDir:   *keep,
		Timeout:   *timeout,
		Host:      map[string]vmtest.HostFunc{},
	}
	if !*quiet {
		cfg.StreamOutput = true
		cfg.Logf = func(format string, args ...any) {
			fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
		}
	}
	cfg.ModuleParams = map[string]string{}
	for _, p := range *params {
		name, val, _ := strings.Cut(p, "=")
		cfg.ModuleParams[name] = val
	}
	cfg.Plan.WaitPaths = []string{"/dev/dri/card0"}
	for _, f := range *files {
		host, guest, ok := strings.Cut(f, ":")
		if !ok {
			guest = "/bin/" + filepath.Base(host)
		}
		cfg.Files = append(cfg.Files, vmtest.File{Path: guest, HostPath: host})
	}
	for i, t := range *tests {
		bin := filepath.Join(build, fmt.Sprintf("t%d.test", i))
		if err := vmtest.GoTestBinaryFor(ctx, root, arch, t, bin); err != nil {
			return err
		}
		guest := "/bin/" + strings.ReplaceAll(strings.Trim(t, "./"), "/", "_") + ".test"
		cfg.Files = append(cfg.Files, vmtest.File{Path: guest, HostPath: bin})
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{
			Name: "test " + t, Cmd: append([]string{guest, "-test.v", "-test.count=1"}, pflag.Args()...),
			Env: []string{"BOOTSPLASH_REQUIRE_DEVICES=1"}, Timeout: proto.Duration(*timeout),
		})
	}
	for i, c := range *cmds {
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: fmt.Sprintf("run%d", i), Cmd: strings.Fields(c), Timeout: proto.Duration(*timeout)})
	}
	if *bg != "" {
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "bg", Cmd: strings.Fields(*bg), Background: true, WaitFor: *waitFor, Timeout: proto.Duration(*timeout)})
		for i, w := range *writes {
			p, d, _ := strings.Cut(w, "=")
			cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: fmt.Sprintf("write%d", i), Write: &proto.WriteFile{Path: p, Data: []byte(d)}})
		}
		if *shot != "" {
			out, err := filepath.Abs(*shot)
			if err != nil {
				return err
			}
			cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "screendump", Host: true})
			cfg.Host["screendump"] = func(ctx context.Context, m *vmtest.Machine) error {
				if err := m.QMP().Screendump(out, "", -1); err != nil {
					return err
				}
				img, err := vmtest.ReadPPM(out)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "screendump: %s, %dx%d\n", out, img.Bounds().Dx(), img.Bounds().Dy())
				return nil
			}
		}
		cfg.Plan.Steps = append(cfg.Plan.Steps, proto.Step{Name: "stop bg", Stop: "bg"})
	}

	rep, err := vmtest.Boot(ctx, cfg)
	if rep != nil {
		fmt.Fprintf(os.Stderr, "kernel %s: ready after %v, wall %v\n", rep.Release, rep.Ready.Round(time.Millisecond), rep.Wall.Round(time.Millisecond))
		failed := 0
		for _, s := range cfg.Plan.Steps {
			r := rep.Step(s.Name)
			switch {
			case !r.Started:
				fmt.Fprintf(os.Stderr, "  %-30s not run\n", s.Name)
			case !r.Exited:
				fmt.Fprintf(os.Stderr, "  %-30s did not finish\n", s.Name)
			default:
				fmt.Fprintf(os.Stderr, "  %-30s exit %d %s\n", s.Name, r.Code, r.Note)
			}
			if !r.OK() {
				failed++
			}
		}
		if err == nil && failed > 0 {
			err = fmt.Errorf("%d steps failed", failed)
		}
	}
	return err
}
