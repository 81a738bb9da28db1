// Package uapi is the raw kernel ABI bootsplash speaks: the dma-buf,
// dma-heap, udmabuf, DRM/KMS and virtual terminal (kd, vt) ioctls, their
// structs, and the DRM fourcc formats and modifiers, generated from the 6.12
// kernel's uapi headers by mkuapi.sh (run `go generate ./internal/uapi`).
//
// Every kernel call the project makes goes through this package's wrappers
// (Ioctl, IoctlInt, Open, Mmap, Munmap, Mprotect, MemfdCreate, Read). They
// retry EINTR and EAGAIN the way libdrm's drmIoctl does, and they consult one
// fault-injection hook (SetFaultHook) so tests can make any call site fail.
//
// Every Linux target bootsplash ships for is generated, each from its own
// architecture's headers with that architecture's C compiler: amd64, 386,
// arm (EABI hard-float; GOARM 6 and 7 share it), arm64 and riscv64. All are
// little-endian and use the generic ioctl encoding. On 32-bit machines a
// __u64 user pointer is a Pointer with the high half zero.
package uapi
