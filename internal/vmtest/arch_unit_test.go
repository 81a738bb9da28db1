package vmtest

import (
	"slices"
	"strings"
	"testing"
)

// The PC's command line is the one the x86 matrix has always booted with:
// a change of it is a change of every x86 result.
func TestQEMUArgsPC(t *testing.T) {
	board, err := PC.spec()
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Kernel: &KernelTree{Vmlinuz: "/k/vmlinuz"}, MemoryMB: 512}
	got := qemuArgs(&cfg, board, "/w/initrd", "/s/ctl", "/s/qmp")
	want := []string{"-nodefaults", "-accel", "tcg", "-cpu", "max", "-m", "512", "-smp", "1",
		"-kernel", "/k/vmlinuz", "-initrd", "/w/initrd",
		"-append", "console=ttyS0 quiet rdinit=/init panic=-1",
		"-display", "none", "-no-reboot",
		"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-chardev", "socket,id=ctl,path=/s/ctl,server=on,wait=on", "-serial", "chardev:ctl",
		"-qmp", "unix:/s/qmp,server=on,wait=off"}
	if !slices.Equal(got, want) {
		t.Errorf("PC command line\n got %q\nwant %q", got, want)
	}
}

// On a virt board the control line is a virtio console, and the kernel
// console, the device tree and extra kernel arguments follow the board and
// the config.
func TestQEMUArgsBoards(t *testing.T) {
	for _, c := range []struct {
		board         Board
		qemu, console string
		control, cpu  string
		virtioConsole bool
		secondUART    bool
		machineArg    string
		// mmio: the virtio console is on virtio-mmio; uefi: AAVMF in
		// the pflash banks, its variables never written back.
		mmio, uefi bool
	}{
		{board: Arm64Virt, qemu: "qemu-system-aarch64", console: "console=ttyAMA0", control: "/dev/hvc0", virtioConsole: true, machineArg: "virt"},
		{board: Arm64VirtUEFI, qemu: "qemu-system-aarch64", console: "console=ttyAMA0", control: "/dev/hvc0", virtioConsole: true, machineArg: "virt", mmio: true, uefi: true},
		{board: RISCV64Virt, qemu: "qemu-system-riscv64", console: "console=ttyS0", control: "/dev/hvc0", virtioConsole: true, machineArg: "virt"},
		{board: VexpressA9, qemu: "qemu-system-arm", console: "console=ttyAMA0", control: "/dev/ttyAMA1", secondUART: true, machineArg: "vexpress-a9"},
		{board: VexpressA15Arm64, qemu: "qemu-system-aarch64", console: "console=ttyAMA0", control: "/dev/ttyAMA1", secondUART: true, machineArg: "vexpress-a15,secure=off"},
	} {
		t.Run(string(c.board), func(t *testing.T) {
			spec, err := c.board.spec()
			if err != nil {
				t.Fatal(err)
			}
			if bin, _ := spec.arch.QEMU(); bin != c.qemu {
				t.Errorf("QEMU %s, want %s", bin, c.qemu)
			}
			if spec.control != c.control {
				t.Errorf("control line %s, want %s", spec.control, c.control)
			}
			cfg := Config{Kernel: &KernelTree{Vmlinuz: "/k/Image", DTB: "/k/board.dtb"}, MemoryMB: 1024, Append: []string{"cma=64M"}}
			args := strings.Join(qemuArgs(&cfg, spec, "/w/initrd", "/s/ctl", "/s/qmp"), " ")
			for _, w := range []string{"-M " + c.machineArg + " ", "-dtb /k/board.dtb", c.console + " quiet rdinit=/init panic=-1 cma=64M"} {
				if !strings.Contains(args, w) {
					t.Errorf("command line %q lacks %q", args, w)
				}
			}
			if got := strings.Contains(args, "virtconsole,chardev=ctl"); got != c.virtioConsole {
				t.Errorf("virtio console = %v, want %v: %s", got, c.virtioConsole, args)
			}
			if got := strings.Contains(args, "-serial chardev:ctl"); got != c.secondUART {
				t.Errorf("second UART = %v, want %v: %s", got, c.secondUART, args)
			}
			if got := strings.Contains(args, "-device virtio-serial-device,id=vser "); got != c.mmio {
				t.Errorf("virtio console on virtio-mmio = %v, want %v: %s", got, c.mmio, args)
			}
			uefi := "-drive if=pflash,format=raw,unit=0,readonly=on,file=" + AAVMFCode + " -drive if=pflash,format=raw,unit=1,snapshot=on,file=" + AAVMFVars + " "
			if got := strings.Contains(args, uefi); got != c.uefi {
				t.Errorf("UEFI firmware = %v, want %v: %s", got, c.uefi, args)
			}
		})
	}
	if _, err := Board("sun4m").spec(); err == nil {
		t.Errorf("an unknown board has a spec")
	}
	spec, _ := Arm64Virt.spec()
	if err := spec.check(Arm64Virt, Cirrus); err == nil {
		t.Errorf("arm64 virt claims a cirrus VGA")
	}
	if err := spec.check(Arm64Virt, Ramfb); err == nil {
		t.Errorf("arm64 virt booted without UEFI claims ramfb, which nothing would light")
	}
}

func TestParseTTFF(t *testing.T) {
	out := []byte(`bootsplash: open /dev/dri/card0 ms=51.33
bootsplash: probe and select output ms=510.26
bootsplash: output: Virtual-1 1280x800@74.99 (crtc 36, plane 32) device=/dev/dri/card0 driver=virtio_gpu api=atomic
bootsplash: fallback: udmabuf: import refused by virtio_gpu: no such device
bootsplash: allocate, import and map the scanout buffer ms=548.93
bootsplash: first frame after 1786.4ms
`)
	total, steps, ok := parseTTFF(out)
	if !ok || total != 1786.4 {
		t.Fatalf("total %v %v, want 1786.4", total, ok)
	}
	want := []string{"open /dev/dri/card0 51.33", "probe and select output 510.26", "allocate, import and map the scanout buffer 548.93"}
	if !slices.Equal(steps, want) {
		t.Errorf("steps %q, want %q", steps, want)
	}
	if _, _, ok := parseTTFF([]byte("bootsplash: open /dev/dri/card0 ms=1\n")); ok {
		t.Errorf("a log without a first frame has a time to first frame")
	}
}

func TestDMAImportProblems(t *testing.T) {
	cma := "6,1,0,-;cma: Reserved 64 MiB at 0x00000000bc000000 on node -1\n"
	inside := "7,900,5000000,-;[drm:drm_gem_dma_prime_import_sg_table] dma_addr = 0x00000000bd000000, size = 3145728\n"
	outside := "7,901,5000001,-;[drm:drm_gem_dma_prime_import_sg_table] dma_addr = 0x0000000080000000, size = 3145728\n"
	straddle := "7,902,5000002,-;[drm:drm_gem_dma_prime_import_sg_table] dma_addr = 0x00000000bff00000, size = 3145728\n"
	for _, c := range []struct {
		name, log      string
		notes, problem int
	}{
		{"inside", cma + inside, 1, 0},
		{"outside", cma + outside, 0, 1},
		{"straddles the end", cma + straddle, 0, 1},
		{"no CMA area", inside, 0, 1},
		{"no import", cma, 0, 1},
	} {
		notes, problems := dmaImportProblems(c.log)
		if len(notes) != c.notes || len(problems) != c.problem {
			t.Errorf("%s: notes %q problems %q, want %d and %d", c.name, notes, problems, c.notes, c.problem)
		}
	}
}

func TestDMABufsByExporter(t *testing.T) {
	bufinfo := `
Dma-buf Objects:
size     	flags   	mode    	count   	exp_name	ino     	name
01048576	00000002	00080007	00000001	system	00000012	<none>
	Attached Devices:
Total 0 devices attached

01048576	00000002	00080007	00000001	system	00000014	<none>
	Attached Devices:
Total 0 devices attached

03145728	00000002	00080007	00000003	pl111	00000020	<none>
	Attached Devices:
	10020000.clcd
Total 1 devices attached


Total 3 objects, 5242880 bytes
`
	got := dmaBufsByExporter(bufinfo)
	want := map[string]int{"system": 2, "pl111": 1}
	if len(got) != len(want) || got["system"] != 2 || got["pl111"] != 1 {
		t.Errorf("got %v, want %v", got, want)
	}
}
