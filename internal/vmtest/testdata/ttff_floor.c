/*
 * ttff_floor: the floor for the time to first frame. It does the least a
 * program can do to put one colour on the first connected output of
 * /dev/dri/card0 the way bootsplash does it: a buffer from the system
 * dma-buf heap, mapped, filled inside DMA_BUF_IOCTL_SYNC, imported over
 * PRIME, ADDFB2, SETCRTC. A device that refuses the import (bochs,
 * virtio-gpu) gets a dumb buffer instead, as bootsplash falls back. It
 * writes a line at main and one when the frame is up (for the in-guest
 * clock, ttff_time.c), then holds the frame until it is killed.
 *
 * Built by the VM suite with gcc -static; the few DRM structures it needs
 * are written out below so that it needs no libdrm headers.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

struct drm_mode_modeinfo {
	__u32 clock;
	__u16 hdisplay, hsync_start, hsync_end, htotal, hskew;
	__u16 vdisplay, vsync_start, vsync_end, vtotal, vscan;
	__u32 vrefresh, flags, type;
	char name[32];
};
struct drm_mode_card_res {
	__u64 fb_id_ptr, crtc_id_ptr, connector_id_ptr, encoder_id_ptr;
	__u32 count_fbs, count_crtcs, count_connectors, count_encoders;
	__u32 min_width, max_width, min_height, max_height;
};
struct drm_mode_crtc {
	__u64 set_connectors_ptr;
	__u32 count_connectors, crtc_id, fb_id, x, y, gamma_size, mode_valid;
	struct drm_mode_modeinfo mode;
};
struct drm_mode_get_encoder {
	__u32 encoder_id, encoder_type, crtc_id, possible_crtcs, possible_clones;
};
struct drm_mode_get_connector {
	__u64 encoders_ptr, modes_ptr, props_ptr, prop_values_ptr;
	__u32 count_modes, count_props, count_encoders, encoder_id, connector_id;
	__u32 connector_type, connector_type_id, connection, mm_width, mm_height;
	__u32 subpixel, pad;
};
struct drm_mode_fb_cmd2 {
	__u32 fb_id, width, height, pixel_format, flags;
	__u32 handles[4], pitches[4], offsets[4];
	__u64 modifier[4];
};
struct drm_mode_create_dumb {
	__u32 height, width, bpp, flags, handle, pitch;
	__u64 size;
};
struct drm_mode_map_dumb {
	__u32 handle, pad;
	__u64 offset;
};
struct drm_mode_fb_dirty_cmd {
	__u32 fb_id, flags, color, num_clips;
	__u64 clips_ptr;
};
struct drm_prime_handle {
	__u32 handle, flags;
	__s32 fd;
};

#define DRM_IOCTL_PRIME_FD_TO_HANDLE _IOWR('d', 0x2e, struct drm_prime_handle)
#define DRM_IOCTL_MODE_GETRESOURCES _IOWR('d', 0xA0, struct drm_mode_card_res)
#define DRM_IOCTL_MODE_SETCRTC _IOWR('d', 0xA2, struct drm_mode_crtc)
#define DRM_IOCTL_MODE_GETENCODER _IOWR('d', 0xA6, struct drm_mode_get_encoder)
#define DRM_IOCTL_MODE_GETCONNECTOR _IOWR('d', 0xA7, struct drm_mode_get_connector)
#define DRM_IOCTL_MODE_DIRTYFB _IOWR('d', 0xB1, struct drm_mode_fb_dirty_cmd)
#define DRM_IOCTL_MODE_CREATE_DUMB _IOWR('d', 0xB2, struct drm_mode_create_dumb)
#define DRM_IOCTL_MODE_MAP_DUMB _IOWR('d', 0xB3, struct drm_mode_map_dumb)
#define DRM_IOCTL_MODE_ADDFB2 _IOWR('d', 0xB8, struct drm_mode_fb_cmd2)
#define XRGB8888 0x34325258 /* 'XR24' */

/* The colour the floor shows; the VM test looks for it. */
#define COLOUR 0x00336699u

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do {
		r = ioctl(fd, req, arg);
	} while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r;
}

static void die(const char *what)
{
	fprintf(stderr, "ttff_floor: %s: %s\n", what, strerror(errno));
	_exit(1);
}

static void fill(uint32_t *p, __u32 pitch, __u32 w, __u32 h)
{
	for (__u32 y = 0; y < h; y++) {
		uint32_t *row = (uint32_t *)((char *)p + (size_t)y * pitch);
		for (__u32 x = 0; x < w; x++)
			row[x] = COLOUR;
	}
}

int main(void)
{
	/* For the in-guest clock (ttff_time.c): main is reached. */
	write(2, "ttff_floor: main\n", 17);
	int drm = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
	if (drm < 0)
		die("open /dev/dri/card0");

	__u32 crtcs[8], conns[8], encs[8];
	struct drm_mode_card_res res = {0};
	res.crtc_id_ptr = (uintptr_t)crtcs;
	res.connector_id_ptr = (uintptr_t)conns;
	res.encoder_id_ptr = (uintptr_t)encs;
	res.count_crtcs = res.count_connectors = res.count_encoders = 8;
	if (xioctl(drm, DRM_IOCTL_MODE_GETRESOURCES, &res))
		die("GETRESOURCES");

	struct drm_mode_modeinfo modes[64], mode;
	__u32 conn_id = 0, enc_id = 0;
	for (__u32 i = 0; i < res.count_connectors && i < 8 && !conn_id; i++) {
		__u32 cenc[8];
		struct drm_mode_get_connector c = {0};
		c.connector_id = conns[i];
		c.modes_ptr = (uintptr_t)modes;
		c.count_modes = 64;
		c.encoders_ptr = (uintptr_t)cenc;
		c.count_encoders = 8;
		if (xioctl(drm, DRM_IOCTL_MODE_GETCONNECTOR, &c))
			die("GETCONNECTOR");
		if (c.connection != 1 || c.count_modes == 0)
			continue;
		/* The preferred mode (DRM_MODE_TYPE_PREFERRED), else the first. */
		mode = modes[0];
		for (__u32 m = 0; m < c.count_modes && m < 64; m++)
			if (modes[m].type & (1 << 3)) {
				mode = modes[m];
				break;
			}
		conn_id = conns[i];
		enc_id = c.encoder_id ? c.encoder_id : cenc[0];
	}
	if (!conn_id)
		die("no connected connector");
	struct drm_mode_get_encoder enc = {.encoder_id = enc_id};
	if (xioctl(drm, DRM_IOCTL_MODE_GETENCODER, &enc))
		die("GETENCODER");
	__u32 crtc_id = enc.crtc_id;
	for (__u32 i = 0; !crtc_id && i < res.count_crtcs && i < 8; i++)
		if (enc.possible_crtcs & (1u << i))
			crtc_id = crtcs[i];

	__u32 w = mode.hdisplay, h = mode.vdisplay, pitch = w * 4, handle = 0;
	size_t size = (size_t)pitch * h;
	const char *path = "heap";
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap >= 0) {
		struct dma_heap_allocation_data a = {.len = size, .fd_flags = O_RDWR | O_CLOEXEC};
		if (xioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a))
			die("DMA_HEAP_IOCTL_ALLOC");
		uint32_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0);
		if (p == MAP_FAILED)
			die("mmap dma-buf");
		struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE};
		if (xioctl(a.fd, DMA_BUF_IOCTL_SYNC, &s))
			die("DMA_BUF_IOCTL_SYNC start");
		fill(p, pitch, w, h);
		s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
		if (xioctl(a.fd, DMA_BUF_IOCTL_SYNC, &s))
			die("DMA_BUF_IOCTL_SYNC end");
		struct drm_prime_handle ph = {.fd = a.fd};
		if (xioctl(drm, DRM_IOCTL_PRIME_FD_TO_HANDLE, &ph) == 0)
			handle = ph.handle;
	}
	if (!handle) {
		path = "dumb";
		struct drm_mode_create_dumb cd = {.height = h, .width = w, .bpp = 32};
		if (xioctl(drm, DRM_IOCTL_MODE_CREATE_DUMB, &cd))
			die("CREATE_DUMB");
		struct drm_mode_map_dumb md = {.handle = cd.handle};
		if (xioctl(drm, DRM_IOCTL_MODE_MAP_DUMB, &md))
			die("MAP_DUMB");
		uint32_t *p = mmap(NULL, cd.size, PROT_READ | PROT_WRITE, MAP_SHARED, drm, md.offset);
		if (p == MAP_FAILED)
			die("mmap dumb");
		pitch = cd.pitch;
		fill(p, pitch, w, h);
		handle = cd.handle;
	}
	struct drm_mode_fb_cmd2 fb = {.width = w, .height = h, .pixel_format = XRGB8888};
	fb.handles[0] = handle;
	fb.pitches[0] = pitch;
	if (xioctl(drm, DRM_IOCTL_MODE_ADDFB2, &fb))
		die("ADDFB2");
	struct drm_mode_crtc set = {.crtc_id = crtc_id, .fb_id = fb.fb_id, .mode_valid = 1, .mode = mode};
	set.set_connectors_ptr = (uintptr_t)&conn_id;
	set.count_connectors = 1;
	if (xioctl(drm, DRM_IOCTL_MODE_SETCRTC, &set))
		die("SETCRTC");
	/* Devices that upload only damaged areas (virtio-gpu) need this;
	 * the others may refuse it. */
	struct drm_mode_fb_dirty_cmd dirty = {.fb_id = fb.fb_id};
	(void)xioctl(drm, DRM_IOCTL_MODE_DIRTYFB, &dirty);
	printf("ttff_floor: shown %ux%u from a %s buffer\n", w, h, path);
	fflush(stdout);
	for (;;)
		pause();
}
