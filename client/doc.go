// Package client is the DRM/KMS device as the kernel's in-kernel clients
// see it (struct drm_client_dev in drivers/gpu/drm/drm_client.c), rebuilt
// in userspace on top of the raw ioctls of internal/uapi.
//
// The pieces mirror the kernel's:
//
//   - Device is drm_client_dev: one open DRM node, its driver name and
//     capabilities, and the client capabilities (universal planes, atomic)
//     it could turn on. SetMaster and DropMaster hand the display over.
//   - Probe, Connector, Encoder, CRTC, Plane and Property are what
//     drm_client_modeset_probe() looks at; SelectOutput picks a connector,
//     its mode, a CRTC and a primary plane the way it does.
//   - ImportDmaBuf, CreateDumb, AddFB and Framebuffer are drm_client_buffer:
//     a buffer object (imported over PRIME, or a dumb buffer) wrapped in a
//     framebuffer.
//   - Modeset, Flip and Damage are drm_client_modeset_commit() and the
//     fbdev helper's damage worker: an atomic commit (legacy SETCRTC,
//     PAGE_FLIP and DIRTYFB when atomic is not available) with damage clips.
//   - ReadEvents, ParseEvents and WaitFlip read the vblank and flip-complete
//     events the kernel queues on the device file.
//   - ListenUevents and ParseUevent read the kernel's uevents (what
//     drm_sysfs_hotplug_event and the card's add and remove send), which
//     the in-kernel client receives as its hotplug callback.
//   - Class and HeapChoice are the heap rule: what the device behind the
//     node is (bus, driver, IOMMU group, from sysfs) decides which DMA-BUF
//     heap suits it, the question of the 2020 "Experimental DMA-BUF Device
//     Heaps" thread: the system heap for a device behind an IOMMU or one
//     that takes scattered pages, a CMA heap for one that scans out only
//     contiguous memory (the GEM DMA helper drivers). TryHeaps checks the
//     choice by importing a small buffer from each heap.
//   - NewScanout chains it all for a CPU-drawn picture: a buffer from each
//     DMA-BUF heap in the rule's order, imported over PRIME, falling back
//     to udmabuf and then to a dumb buffer, saying which path was taken and
//     why.
//
// Every object the kernel hands out (GEM handle, framebuffer, property blob,
// the device fd) has one owner here whose Close or Remove is idempotent.
// The package works on Linux; elsewhere Open returns an error wrapping
// os.ErrNotExist.
package client
