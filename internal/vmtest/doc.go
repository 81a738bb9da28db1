// Package vmtest runs the project's tests on a real Linux kernel: a pinned
// Debian kernel booted under QEMU (TCG, no KVM) with an emulated display
// device, so that DRM/KMS, dma-buf heaps, udmabuf and PRIME are the kernel's
// own and not fakes.
//
// A boot is: fetch and extract the kernel package (FetchKernel, cached under
// .cache/vm or $BOOTSPLASH_VM_CACHE), build a gzip'd cpio initramfs
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
// the suite enabled, a missing qemu-system-x86_64, a failing apt-get or a
// missing kernel package is a failure. It needs the Debian packages
// qemu-system-x86 and dpkg (dpkg-deb), and apt-get able to download
// linux-image-6.12.107+deb12-amd64-unsigned and
// linux-image-6.1.0-56-amd64-unsigned (bookworm-security). Screendumps and
// the frames they are compared with land in out/vmtest.
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
