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
// Only 64-bit little-endian Linux (amd64, arm64) is generated.
package uapi
