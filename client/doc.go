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
//   - ImportDmaBuf, CreateDumb, AddFB and FB are drm_client_buffer: a
//     buffer object (imported over PRIME, or a dumb buffer) wrapped in a
//     framebuffer. (FB is the kernel's struct drm_framebuffer; package
//     fbemu's Framebuffer is the fbdev emulation drawn on top of one.)
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
// # Who owns what
//
// Every object the kernel hands out has one owner here, and every owner
// has one Close: it releases the object, and once it succeeded later calls
// return nil and do nothing. What a failed call made is released before it
// returns.
//
//   - Device owns the device fd and the mode blobs of the CRTCs it set
//     (Close).
//   - GEM owns a GEM handle from ImportDmaBuf (Close: GEM_CLOSE).
//   - Dumb owns a dumb buffer's GEM handle (Close: DESTROY_DUMB); its
//     Buffer hands that over to an access.Buffer, whose Close closes the
//     Dumb.
//   - FB owns a framebuffer id from AddFB (Close: RMFB, which turns off a
//     plane showing it). CloseRetained is the other way to let go
//     (CLOSEFB, Linux 6.8+): the framebuffer stays on its plane, so a
//     splash can hand the picture over to the next display client.
//   - FBInfo owns the GEM handles GETFB2 opened (Close).
//   - Scanout owns its FB, GEM or Dumb and access.Buffer (Close, or
//     CloseRetained to leave the picture up).
//
// Mappings of buffers are package access's: access.Mapping (Close). Raw ids
// (FBID, Handle, BlobID, ...) own nothing; they name objects for the
// kernel.
//
// # Errors
//
// A failed kernel operation returns a *kerror.Error: what was tried, on
// which device or driver, the kernel's errno and a hint, like
// "import dma-buf into cirrus: invalid argument (driver cannot import)".
// errors.Is matches the errno and the sentinels ErrNotSupported (which is
// kerror.ErrNotSupported), ErrImportUnsupported, ErrNoDisplay and those of
// package access the error wraps; errors.As finds the *kerror.Error.
//
// The package works on Linux; elsewhere Open returns an error wrapping
// os.ErrNotExist.
package client
