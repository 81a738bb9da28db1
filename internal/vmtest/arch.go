package vmtest

import (
	"fmt"
	"os"
	"runtime"
)

// Arch is a guest architecture, spelled as GOARCH spells it.
type Arch string

// The architectures the suite boots.
const (
	AMD64   Arch = "amd64"
	ARM     Arch = "arm" // ARMv7 with hardware floating point (Debian's armhf)
	ARM64   Arch = "arm64"
	RISCV64 Arch = "riscv64"
)

// HostArch is the architecture the host's Go toolchain builds for by
// default, the one host-side helpers (bootsplash render) are built for.
const HostArch = Arch(runtime.GOARCH)

// GoEnv returns the environment that makes the Go toolchain build static,
// cgo-free Linux binaries for the architecture (GOARM=7 for 32-bit ARM:
// Cortex-A7/A9/A15 have VFPv3 and NEON).
func (a Arch) GoEnv() []string {
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + string(a)}
	if a == ARM {
		env = append(env, "GOARM=7")
	}
	return env
}

// Debian is the architecture's name in Debian's archive.
func (a Arch) Debian() string {
	if a == ARM {
		return "armhf"
	}
	return string(a)
}

// QEMU is the system emulator for the architecture and the Debian package
// that has it.
func (a Arch) QEMU() (binary, pkg string) {
	switch a {
	case AMD64:
		return "qemu-system-x86_64", "qemu-system-x86"
	case ARM:
		return "qemu-system-arm", "qemu-system-arm"
	case ARM64:
		return "qemu-system-aarch64", "qemu-system-arm"
	case RISCV64:
		return "qemu-system-riscv64", "qemu-system-misc"
	}
	return "", ""
}

// controlKind is how the host↔guest control line reaches the guest.
type controlKind int

const (
	// controlSerial is a second UART: ttyS1 on a PC, ttyAMA1 on vexpress
	// boards (they have four PL011s and no PCI for anything else).
	controlSerial controlKind = iota
	// controlVirtio is a virtio console (virtio-serial-pci with a
	// virtconsole port: the guest's /dev/hvc0), for boards that have one
	// UART only (QEMU's virt boards).
	controlVirtio
	// controlVirtioMMIO is the same virtio console on a virtio-mmio
	// transport (virtio-serial-device), for kernels built without PCI.
	controlVirtioMMIO
)

// Board is the emulated machine a kernel boots on: everything QEMU
// emulates besides the display device the test chooses (on boards with a
// built-in display controller, Device names that one). The zero Board is
// PC.
type Board string

// The boards of the suite.
const (
	// PC is QEMU's i440FX PC, the x86 machine of the original matrix.
	PC Board = "pc"
	// Arm64Virt is QEMU's generic arm64 board: PCIe, one PL011, virtio.
	Arm64Virt Board = "arm64-virt"
	// Arm64VirtUEFI is QEMU's virt board booted through UEFI: Debian's
	// AAVMF (AAVMFCode) starts the kernel's EFI stub, QEMU handing it
	// the kernel, the initramfs and the command line through fw_cfg, and
	// describes the board in ACPI only. Its display is ramfb, which
	// AAVMF's GOP lights; the control line is a virtio console on
	// virtio-mmio (the kernel built for it has no PCI).
	Arm64VirtUEFI Board = "arm64-virt-uefi"
	// RISCV64Virt is QEMU's generic riscv64 board, booted through QEMU's
	// bundled OpenSBI: PCIe, one 16550 UART, virtio.
	RISCV64Virt Board = "riscv64-virt"
	// VexpressA9 is ARM's Versatile Express with a Cortex-A9 core tile
	// (32-bit): no PCI, four PL011s, the core tile's pl111 CLCD (QEMU
	// emulates that one, not the motherboard's).
	VexpressA9 Board = "vexpress-a9"
	// VexpressA15Arm64 is the Versatile Express A15 board running an
	// arm64 core (secure=off: QEMU cannot boot a 64-bit kernel there in
	// secure mode), with the motherboard's pl111 CLCD, which has 8 MiB of
	// VRAM of its own.
	VexpressA15Arm64 Board = "arm64-vexpress-a15"
)

// boardSpec is what QEMU needs to know of a board.
type boardSpec struct {
	arch Arch
	// machine is QEMU's -M value (none for the PC); cpu its -cpu.
	machine, cpu string
	memoryMB     int
	// console is the kernel console device (console=...).
	console string
	// control is the guest's device node of the control line, and kind
	// how it gets there.
	control string
	kind    controlKind
	// firmware is the UEFI firmware's code, flashed read-only into the
	// board's first pflash, its variable store (a template used with
	// snapshot=on: nothing is written back) in the second; none boots
	// the kernel directly.
	firmware, firmwareVars string
	// devices are the display devices the board can show: PCI ones it
	// takes with -device, or its built-in controller.
	devices []Device
}

func (b Board) spec() (boardSpec, error) {
	switch b {
	case PC, "":
		return boardSpec{arch: AMD64, cpu: "max", memoryMB: 512, console: "ttyS0", control: "/dev/ttyS1",
			kind: controlSerial, devices: []Device{Cirrus, Bochs, Virtio, BochsDisplay, VirtioVGA}}, nil
	case Arm64Virt:
		return boardSpec{arch: ARM64, machine: "virt", cpu: "cortex-a57", memoryMB: 1024, console: "ttyAMA0",
			control: "/dev/hvc0", kind: controlVirtio, devices: []Device{Virtio}}, nil
	case Arm64VirtUEFI:
		return boardSpec{arch: ARM64, machine: "virt", cpu: "cortex-a57", memoryMB: 1024, console: "ttyAMA0",
			control: "/dev/hvc0", kind: controlVirtioMMIO, firmware: AAVMFCode, firmwareVars: AAVMFVars,
			devices: []Device{Ramfb}}, nil
	case RISCV64Virt:
		return boardSpec{arch: RISCV64, machine: "virt", cpu: "rv64", memoryMB: 1024, console: "ttyS0",
			control: "/dev/hvc0", kind: controlVirtio, devices: []Device{Virtio}}, nil
	case VexpressA9:
		return boardSpec{arch: ARM, machine: "vexpress-a9", cpu: "cortex-a9", memoryMB: 1024, console: "ttyAMA0",
			control: "/dev/ttyAMA1", kind: controlSerial, devices: []Device{PL111}}, nil
	case VexpressA15Arm64:
		return boardSpec{arch: ARM64, machine: "vexpress-a15,secure=off", cpu: "cortex-a57", memoryMB: 1024, console: "ttyAMA0",
			control: "/dev/ttyAMA1", kind: controlSerial, devices: []Device{PL111}}, nil
	}
	return boardSpec{}, fmt.Errorf("unknown board %q", string(b))
}

// Arch is the board's architecture.
func (b Board) Arch() Arch {
	s, _ := b.spec()
	return s.arch
}

// Debian's UEFI firmware for QEMU's arm64 virt board (package
// qemu-efi-aarch64): the code and the variable store, each the size of a
// virt pflash bank.
const (
	AAVMFCode = "/usr/share/AAVMF/AAVMF_CODE.fd"
	AAVMFVars = "/usr/share/AAVMF/AAVMF_VARS.fd"
)

// qemuArgs returns the board's part of QEMU's command line: machine, CPU,
// memory, firmware.
func (s boardSpec) qemuArgs(memoryMB int) []string {
	var args []string
	if s.machine != "" {
		args = append(args, "-M", s.machine)
	}
	args = append(args, "-accel", "tcg", "-cpu", s.cpu, "-m", fmt.Sprint(memoryMB), "-smp", "1")
	if s.firmware != "" {
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+s.firmware,
			"-drive", "if=pflash,format=raw,unit=1,snapshot=on,file="+s.firmwareVars)
	}
	return args
}

// checkFirmware says which package to install when the board's firmware
// is missing.
func (s boardSpec) checkFirmware(b Board) error {
	for _, f := range []string{s.firmware, s.firmwareVars} {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("board %s boots through UEFI (apt-get install qemu-efi-aarch64): %w", string(b), err)
		}
	}
	return nil
}

// controlArgs returns the QEMU options for the console (on stdio) and the
// control line (the unix socket ctlSock, which QEMU waits on).
func (s boardSpec) controlArgs(ctlSock string) []string {
	args := []string{
		"-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
		"-chardev", "socket,id=ctl,path=" + ctlSock + ",server=on,wait=on",
	}
	switch s.kind {
	case controlVirtio:
		return append(args, "-device", "virtio-serial-pci,id=vser", "-device", "virtconsole,chardev=ctl,bus=vser.0")
	case controlVirtioMMIO:
		return append(args, "-device", "virtio-serial-device,id=vser", "-device", "virtconsole,chardev=ctl,bus=vser.0")
	}
	return append(args, "-serial", "chardev:ctl")
}

// check says why the board cannot show dev, if it cannot.
func (s boardSpec) check(b Board, dev Device) error {
	for _, d := range s.devices {
		if d == dev {
			return nil
		}
	}
	return fmt.Errorf("board %s (%s) has no display device %q (it has %v)", string(b), s.arch, string(dev), s.devices)
}
