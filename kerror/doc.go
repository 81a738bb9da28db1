// Package kerror is the one error shape of bootsplash's kernel-facing
// packages (access, client, fbemu): what was tried, on which device, file
// or buffer, the kernel's answer (an errno, usually) and a hint that says
// what the answer means here, like the kernel's own drm_dbg lines:
//
//	import dma-buf into cirrus: invalid argument (driver cannot import)
//	access: alloc 8294400 bytes from heap "system" (/dev/dma_heap/system): cannot allocate memory
//
// It lives in a package of its own, below access and client, because both
// return it and neither should be the other's place for it: a DRM ioctl
// failing is no access error, and access sits below client. A caller looks
// inside with errors.As (one *Error type whichever package failed) and asks
// what happened with errors.Is: the errno (unix.EINVAL), the sentinels of
// this package (ErrNotSupported) and those of access and client
// (access.ErrNoHeaps, client.ErrImportUnsupported) all match through it.
package kerror
