// Package vmtest runs the project's tests on a real Linux kernel: a pinned
// Debian kernel booted under QEMU (TCG, no KVM) with an emulated display
// device, so that DRM/KMS, dma-buf heaps, udmabuf and PRIME are the kernel's
// own and not fakes.
//
// A boot is: fetch and extract the kernel package (FetchKernel, cached in
// CacheDir: $BOOTSPLASH_VM_CACHE or ~/.cache/bootsplash/vm), build a gzip'd cpio initramfs
// (Initramfs) holding the static guest init (./guestinit), the DRM modules in
// dependency order, the plan and the files the test asks for, then boot QEMU
// (Boot). The guest init mounts proc, sysfs, devtmpfs, debugfs and tmpfs,
// loads the modules with finit_module, waits for /dev/dri/card0, runs the
// plan's steps and powers off. Its messages travel on the second serial port
// (package proto); the first is the kernel console. Host steps let the host
// act while the guest waits: a QMP screendump (QMP, DecodePPM), device_del or
// device_add.
//
// # Running the suite
//
//	BOOTSPLASH_VM=1 go test ./internal/vmtest -v
//
// It also runs when CI=true; otherwise the VM tests skip and say so. With
// the suite enabled, a missing qemu-system-x86_64 (qemu-system-aarch64,
// qemu-system-riscv64 for the other architectures), a failing apt-get or a
// missing kernel package is a failure. It needs the Debian packages
// qemu-system-x86, qemu-system-arm, qemu-system-misc and dpkg (dpkg-deb),
// and apt-get able to download
// linux-image-6.12.107+deb12-amd64-unsigned and
// linux-image-6.1.0-56-amd64-unsigned (bookworm-security). Screendumps and
// the frames they are compared with land in out/vmtest.
//
// What the suite does (vm_test.go): it builds the guest init, the static
// test binaries of the packages listed in guestPackages, and cmd/bootsplash
// once; then for each device of the matrix (cirrus, bochs, virtio on 6.12)
// it boots once and runs every test binary (-test.v=test2json -test.count=1,
// BOOTSPLASH_REQUIRE_DEVICES=1, working directory /src/PKG holding what
// `go test` would let it read: the package directory's files, testdata
// included, less the packages below it; see PackageFiles) and the
// end-to-end cases of e2eCases. Each guest test
// becomes a host subtest (TestVM/cirrus/access/TestHeapAlloc); a guest skip
// is a host failure. A package's deviceFree tests (slow, device-independent:
// golden images, fuzz seeds) run on cirrus only. An end-to-end case starts `bootsplash run` in the
// background, waits for "first frame", takes a screendump from the host,
// sends SIGTERM and expects exit 0, then requires the screendump to equal
// `bootsplash render` at the same size pixel for pixel and the logged
// "buffer: " line to name the path the device must take. One more boot runs
// the 6.1 kernel on cirrus, where the path must be a dumb buffer. TestVMRunner
// checks the runner itself with a fixture program.
//
// The themed case (themed_test.go, TestVM/{cirrus,virtio}/e2e/themed) runs
// in the same boots on cirrus (heap + PRIME) and virtio (dumb buffers,
// damage required): `bootsplash run --theme /theme/test.toml` with
// splash/testdata/theme copied to /theme, then requests over each control
// front end in turn: `bootsplash ctl progress 40` and `ctl message`, a
// write of "PROGRESS 75\0MSG ...\0" to /run/psplash_fifo, and Debian's
// own plymouth client (system-update, display-message, then quit). After
// the first frame and after each front end, the host polls screendumps
// until the screen equals `bootsplash render --theme ... --progress P
// --message M` for some spinner frame (the spinner keeps turning; the
// spinner's period is found by rendering frames until one repeats), within
// 10 s; the initial check also waits for the spinner to move to another
// frame that is exactly as rendered. After `plymouth quit`, run must exit
// 0 by itself (a Wait step). The plymouth client and the libraries it
// needs (ProgramFiles, from its ELF headers) go into every 6.12 boot at
// their host paths, for guest tests that drive it too; without plymouth
// on the host its checks skip, or fail under CI
// (testutil.NeedCommand). A mismatch leaves the screen and the closest
// rendered frame under out/vmtest/RELEASE-DEVICE/themed/CHECK.
//
// The lifecycle case (lifecycle_test.go, TestVMLifecycle) boots cirrus on
// 6.12 once more, with a second DRM client (internal/drmholder) next to
// bootsplash: run waits for DRM master while the client holds it;
// reactivate sets bootsplash's mode again after the client showed its own;
// a plain quit takes the splash off the primary plane; and with a
// successor holding the card, `ctl quit --retain` leaves the plane's
// framebuffer (read back with GETFB2 and PRIME) equal to the splash.
// TestVMRetainOldKernel runs the retained quit on 6.1, which lacks CLOSEFB:
// bootsplash must say so, exit 0, and leave no framebuffer on the plane.
//
// The keyboard cases type at QEMU's own keyboards (QMP input-send-event,
// press and release in one command so that a loaded host cannot make the
// guest's input core repeat a key). TestVMAskPassword (askpass_test.go)
// answers Debian's `plymouth ask-for-password` through the i8042 on the
// tty and on evdev, with the screen equal to `render --prompt --bullets`
// and the key-to-photon times; TestVMLateKeyboard (latekbd_test.go) plugs
// a usb-kbd on qemu-xhci while a question is open and nothing else can
// type (internal/kbdwait checks the evdev reader opened and grabbed it);
// TestVMLuksUnlock (luks_test.go) attaches a LUKS2 image the host made
// with Debian's cryptsetup as a virtio disk and unlocks it in the guest,
// through `plymouth ask-for-password --command "cryptsetup open ..."` and
// through Debian's initramfs script local-top/cryptroot under busybox,
// then reads the payload back from /dev/mapper/root (internal/headcheck).
//
// # Other architectures
//
// A Config names a Board besides the display Device; the board fixes the
// architecture (Arch: QEMU binary, GOARCH, Debian's name for it), QEMU's
// machine and CPU, the console, and how the control line reaches the
// guest: a second UART on the PC (ttyS1) and on the vexpress boards
// (ttyAMA1, they have four PL011s and no PCI), a virtio console
// (virtio-serial-pci with a virtconsole port, the guest's /dev/hvc0) on
// QEMU's virt boards, which have one UART. The plan tells the guest init
// which (Plan.Control). The guest init, bootsplash and test binaries are
// built for the board's architecture (GoBuildFor, GoTestBinaryFor,
// BuildGuestInitFor; GOARM=7 for 32-bit ARM); `bootsplash render`, which
// draws the expected frames, runs on the host.
//
// Kernel packages of another architecture (KernelArm64, KernelRISCV64,
// pinned to a version) are fetched with apt-get through a configuration
// of their own under the cache (apt/ARCH: sources, lists, cache, an empty
// dpkg status), so the machine's apt state is left alone and no dpkg
// --add-architecture is needed; riscv64 comes from trixie, bookworm has
// none. Modules are ordered from their own .modinfo depends= entries, so
// the packages' missing modules.dep does not matter. The image is
// boot/vmlinuz-* (bzImage, zImage, arm64 Image) or boot/vmlinux-*
// (riscv64), and the modules are under lib/modules or usr/lib/modules.
//
// TestVMArch (arch_test.go) boots each target of archTargets: arm64 virt
// with virtio-gpu on Debian's arm64 kernel, which has no dma-buf heap and
// whose virtio-gpu refuses the udmabuf import (ENODEV), so run must end on
// a dumb buffer and say why; riscv64 virt with virtio-gpu on trixie's
// riscv64 kernel (no heap, no udmabuf): a dumb buffer; the screen must
// equal `render` pixel for pixel; and a PC with the same virtio-gpu, the
// x86 reference for time to first frame under the same emulator. The
// vexpress targets boot kernels of BuildKernel (everything built in, both
// dma-buf heaps, cma=64M so the CMA heap is "reserved") on QEMU's pl111,
// which scans out contiguous memory only:
//
//   - arm64 vexpress-a15 with pl111 allocating from CMA: the heap rule must pick "reserved" and say why (contiguous, GEM
//     DMA helper); the kernel log (drm.debug=0x08, read by guesthelper
//     dmesg while the splash shows) must show
//     drm_gem_dma_prime_import_sg_table importing the buffer at a DMA
//     address inside the CMA area; the screen equals render. Then
//     guesthelper fragment 48 takes 48 1 MiB system-heap buffers and frees
//     every other one, and `run --heap system` must have its buffer
//     refused by pl111, fall back to a dumb buffer pixel-exact, and hold
//     no dma-buf of its own while it shows (the exporters listed in
//     /sys/kernel/debug/dma_buf/bufinfo: the 24 the fragmenter holds,
//     none else). splash's TestFaultSweep runs in the same boot.
//   - arm64 vexpress-a15 with pl111 scanning out of its own VRAM (the
//     device tree's memory-region kept): every import is refused, run
//     ends on a dumb buffer and names each refusal.
//
// Each end-to-end case, x86 included, logs its time to first frame with
// the breakdown `run -v` prints ("TTFF target: ...") and appends it to
// out/vmtest/ttff.tsv.
//
// TestVMTTFF (ttff_test.go) times the first visible frame from outside the
// guest, bootsplash against Debian's plymouthd and a static C floor in one
// boot on the PC; TestVMTTFFArm (ttff_armboard_test.go) does the same on
// arm64 virt with virtio-gpu and on armhf vexpress-a9 with pl111, with the
// C programs built by Debian's cross compilers and plymouthd from the
// board's own Debian packages (docs/first-frame.md).
//
// # Adding to it
//
//   - A package with kernel tests: add it to guestPackages in vm_test.go;
//     its deviceFree pattern names slow tests that do not need the
//     display device, run on the first device of the matrix only.
//   - An end-to-end case: add an e2eCase (mode, expected buffer path, texts
//     the log must contain) in e2eCases.
//   - A new kind of check: build a proto.Plan of steps (Cmd, Background with
//     WaitFor, Write to a /sys file, WaitPath, Host, Stop, Wait for a
//     background command to exit by itself) and give each Host
//     step a HostFunc; a HostFunc gets the Machine, whose Screendump and
//     StableScreendump take a head, whose Result and GuestUptime tell
//     when earlier steps ran on the guest's clock, and whose QMP does device_del and
//     device_add. Module parameters go in Config.ModuleParams
//     ({"drm_kms_helper": "fbdev_emulation=0"}). QEMU cannot hot-plug its
//     display devices; connector hotplug on virtio is a Write of "on", "off"
//     or "detect" to /sys/class/drm/card0-Virtual-2/status (see
//     TestVMRunner).
//
// # Debugging a boot
//
// The vmrun command boots one machine by hand and streams everything:
//
//	go run ./internal/vmtest/cmd/vmrun --device cirrus --test ./access -- -test.run TestHeap
//	go run ./internal/vmtest/cmd/vmrun --device virtio --kernel 6.1 --file ./bootsplash \
//	    --bg "/bin/bootsplash run -v" --wait-for "first frame" --screendump /tmp/shot.ppm
//
// --keep DIR keeps the initramfs, the console log and a transcript of every
// message from the guest.
package vmtest
