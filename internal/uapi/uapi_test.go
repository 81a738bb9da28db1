//go:build linux

package uapi

import (
	"errors"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// iocSize is _IOC_SIZE: bits 16..29 of an ioctl request in the generic
// encoding every generated target (amd64, 386, arm, arm64, riscv64) uses.
func iocSize(req uint) uintptr { return uintptr(req>>16) & 0x3fff }

func TestStructSizesMatchIoctlNumbers(t *testing.T) {
	cases := []struct {
		req  uint
		size uintptr
	}{
		{DMA_BUF_IOCTL_SYNC, unsafe.Sizeof(DmaBufSync{})},
		{DMA_BUF_IOCTL_EXPORT_SYNC_FILE, unsafe.Sizeof(DmaBufExportSyncFile{})},
		{DMA_BUF_IOCTL_IMPORT_SYNC_FILE, unsafe.Sizeof(DmaBufImportSyncFile{})},
		{DMA_BUF_SET_NAME_B, unsafe.Sizeof(uint64(0))},
		{DMA_HEAP_IOCTL_ALLOC, unsafe.Sizeof(DmaHeapAllocationData{})},
		{UDMABUF_CREATE, unsafe.Sizeof(UdmabufCreate{})},
		{DRM_IOCTL_VERSION, unsafe.Sizeof(DrmVersion{})},
		{DRM_IOCTL_GET_CAP, unsafe.Sizeof(DrmGetCap{})},
		{DRM_IOCTL_SET_CLIENT_CAP, unsafe.Sizeof(DrmSetClientCap{})},
		{DRM_IOCTL_GEM_CLOSE, unsafe.Sizeof(DrmGemClose{})},
		{DRM_IOCTL_PRIME_HANDLE_TO_FD, unsafe.Sizeof(DrmPrimeHandle{})},
		{DRM_IOCTL_PRIME_FD_TO_HANDLE, unsafe.Sizeof(DrmPrimeHandle{})},
		{DRM_IOCTL_MODE_GETRESOURCES, unsafe.Sizeof(ModeCardRes{})},
		{DRM_IOCTL_MODE_GETCRTC, unsafe.Sizeof(ModeCrtc{})},
		{DRM_IOCTL_MODE_SETCRTC, unsafe.Sizeof(ModeCrtc{})},
		{DRM_IOCTL_MODE_GETENCODER, unsafe.Sizeof(ModeGetEncoder{})},
		{DRM_IOCTL_MODE_GETCONNECTOR, unsafe.Sizeof(ModeGetConnector{})},
		{DRM_IOCTL_MODE_GETPROPERTY, unsafe.Sizeof(ModeGetProperty{})},
		{DRM_IOCTL_MODE_GETPROPBLOB, unsafe.Sizeof(ModeGetBlob{})},
		{DRM_IOCTL_MODE_GETFB, unsafe.Sizeof(ModeFbCmd{})},
		{DRM_IOCTL_MODE_GETFB2, unsafe.Sizeof(ModeFbCmd2{})},
		{DRM_IOCTL_MODE_ADDFB, unsafe.Sizeof(ModeFbCmd{})},
		{DRM_IOCTL_MODE_ADDFB2, unsafe.Sizeof(ModeFbCmd2{})},
		{DRM_IOCTL_MODE_RMFB, unsafe.Sizeof(uint32(0))},
		{DRM_IOCTL_MODE_CLOSEFB, unsafe.Sizeof(ModeCloseFb{})},
		{DRM_IOCTL_MODE_PAGE_FLIP, unsafe.Sizeof(ModeCrtcPageFlip{})},
		{DRM_IOCTL_MODE_DIRTYFB, unsafe.Sizeof(ModeFbDirtyCmd{})},
		{DRM_IOCTL_MODE_CREATE_DUMB, unsafe.Sizeof(ModeCreateDumb{})},
		{DRM_IOCTL_MODE_MAP_DUMB, unsafe.Sizeof(ModeMapDumb{})},
		{DRM_IOCTL_MODE_DESTROY_DUMB, unsafe.Sizeof(ModeDestroyDumb{})},
		{DRM_IOCTL_MODE_GETPLANERESOURCES, unsafe.Sizeof(ModeGetPlaneRes{})},
		{DRM_IOCTL_MODE_GETPLANE, unsafe.Sizeof(ModeGetPlane{})},
		{DRM_IOCTL_MODE_SETPLANE, unsafe.Sizeof(ModeSetPlane{})},
		{DRM_IOCTL_MODE_OBJ_GETPROPERTIES, unsafe.Sizeof(ModeObjGetProperties{})},
		{DRM_IOCTL_MODE_OBJ_SETPROPERTY, unsafe.Sizeof(ModeObjSetProperty{})},
		{DRM_IOCTL_MODE_ATOMIC, unsafe.Sizeof(ModeAtomic{})},
		{DRM_IOCTL_MODE_CREATEPROPBLOB, unsafe.Sizeof(ModeCreateBlob{})},
		{DRM_IOCTL_MODE_DESTROYPROPBLOB, unsafe.Sizeof(ModeDestroyBlob{})},
	}
	for _, c := range cases {
		if got := iocSize(c.req); got != c.size {
			t.Errorf("%s encodes %d bytes, Go struct has %d", IoctlName(c.req), got, c.size)
		}
	}
	// The requests with no argument.
	for _, req := range []uint{DRM_IOCTL_SET_MASTER, DRM_IOCTL_DROP_MASTER} {
		if got := iocSize(req); got != 0 {
			t.Errorf("%s encodes %d bytes, want 0", IoctlName(req), got)
		}
	}
}

func TestFixedLayouts(t *testing.T) {
	// Structs read from the kernel as bytes (events, blobs) must have the
	// sizes the kernel writes.
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"drm_event", unsafe.Sizeof(DrmEvent{}), 8},
		{"drm_event_vblank", unsafe.Sizeof(DrmEventVblank{}), 32},
		{"drm_mode_rect", unsafe.Sizeof(ModeRect{}), 16},
		{"drm_clip_rect", unsafe.Sizeof(DrmClipRect{}), 8},
		{"drm_mode_modeinfo", unsafe.Sizeof(ModeModeinfo{}), 68},
		{"drm_format_modifier_blob", unsafe.Sizeof(FormatModifierBlob{}), 24},
		{"drm_format_modifier", unsafe.Sizeof(FormatModifier{}), 24},
		{"Pointer", unsafe.Sizeof(Pointer{}), 8},
		{"vt_stat", unsafe.Sizeof(VtStat{}), 6},
		{"vt_mode", unsafe.Sizeof(VtMode{}), 8},
	} {
		if c.got != c.want {
			t.Errorf("sizeof(%s) = %d, want %d", c.name, c.got, c.want)
		}
	}
}

func TestFourcc(t *testing.T) {
	// fourcc_code('X','R','2','4') is little-endian ASCII.
	if DRM_FORMAT_XRGB8888 != uint32('X')|uint32('R')<<8|uint32('2')<<16|uint32('4')<<24 {
		t.Errorf("XRGB8888 = %#x", DRM_FORMAT_XRGB8888)
	}
	for _, name := range []string{"XRGB8888", "ARGB8888", "RGB565", "NV12", "C8"} {
		code, ok := FormatByName(name)
		if !ok {
			t.Errorf("FormatByName(%q) not found", name)
			continue
		}
		if got := FormatName(code); got != name {
			t.Errorf("FormatName(FormatByName(%q)) = %q", name, got)
		}
	}
	if _, ok := FormatByName("DRM_FORMAT_XRGB8888"); !ok {
		t.Error("FormatByName does not accept the DRM_FORMAT_ prefix")
	}
	if FormatName(0x12345678) != "" {
		t.Error("FormatName of an unknown code is not empty")
	}
	if got := ModifierName(DRM_FORMAT_MOD_LINEAR); got != "LINEAR" {
		t.Errorf("ModifierName(LINEAR) = %q", got)
	}
	if got := ModifierVendorName(DRM_FORMAT_MOD_VENDOR_INTEL); got != "INTEL" {
		t.Errorf("ModifierVendorName(INTEL) = %q", got)
	}
	if DRM_FORMAT_MOD_INVALID != 0x00ffffffffffffff {
		t.Errorf("DRM_FORMAT_MOD_INVALID = %#x", uint64(DRM_FORMAT_MOD_INVALID))
	}
}

func TestIoctlName(t *testing.T) {
	if got := IoctlName(DRM_IOCTL_MODE_ADDFB2); got != "DRM_IOCTL_MODE_ADDFB2" {
		t.Errorf("IoctlName(ADDFB2) = %q", got)
	}
	if got := IoctlName(KDSETMODE); got != "KDSETMODE" {
		t.Errorf("IoctlName(KDSETMODE) = %q", got)
	}
	if got := IoctlName(0xdead); got != "ioctl 0xdead" {
		t.Errorf("IoctlName(0xdead) = %q", got)
	}
}

func TestFaultHookRetriesAndFails(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "ioctl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())

	// An EINTR storm is retried through to the real call, which fails with
	// ENOTTY on a regular file: the retry loop reached the kernel. TCGETS,
	// not a dma-buf request, because qemu-user (which runs these tests for
	// arm and riscv64) answers ENOSYS for the ioctls it does not know.
	storm := 0
	restore := SetFaultHook(func(s Site) error {
		if s.Call == "ioctl" && storm < 1000 {
			storm++
			return unix.EINTR
		}
		return nil
	})
	var tio unix.Termios
	err = Ioctl(fd, unix.TCGETS, unsafe.Pointer(&tio))
	restore()
	if storm != 1000 {
		t.Errorf("hook saw %d calls, want 1000 retries", storm)
	}
	if !errors.Is(err, unix.ENOTTY) {
		t.Errorf("after the storm: %v, want ENOTTY from the kernel", err)
	}

	// A non-retryable error is returned as is, without reaching the kernel.
	var seen []Site
	restore = SetFaultHook(func(s Site) error {
		seen = append(seen, s)
		return unix.ENODEV
	})
	err = Ioctl(fd, DRM_IOCTL_MODE_ADDFB2, nil)
	_, oerr := Open("/nonexistent", unix.O_RDONLY, 0)
	restore()
	if !errors.Is(err, unix.ENODEV) || !errors.Is(oerr, unix.ENODEV) {
		t.Errorf("injected ENODEV came back as %v and %v", err, oerr)
	}
	if len(seen) != 2 || seen[0].String() != "DRM_IOCTL_MODE_ADDFB2" || seen[1].String() != "open /nonexistent" {
		t.Errorf("sites seen: %v", seen)
	}

	// With the hook removed, calls reach the kernel again.
	if _, err := Open("/nonexistent", unix.O_RDONLY, 0); !errors.Is(err, unix.ENOENT) {
		t.Errorf("after restore: %v, want ENOENT", err)
	}
}

func TestSlicePointer(t *testing.T) {
	if !SlicePointer([]uint32(nil)).IsNil() {
		t.Error("SlicePointer(nil) is not nil")
	}
	s := []uint32{1, 2}
	if p := SlicePointer(s); p.ptr != unsafe.Pointer(&s[0]) {
		t.Error("SlicePointer does not point at the first element")
	}
}

// Every wrapper retries an EINTR the hook stages, as the hook's doc says.
func TestEveryWrapperRetriesHookEINTR(t *testing.T) {
	var failed map[string]int
	restore := SetFaultHook(func(s Site) error {
		if failed[s.Call] < 3 {
			failed[s.Call]++
			return unix.EINTR
		}
		return nil
	})
	defer restore()
	failed = map[string]int{}
	fd, err := MemfdCreate("uapi-retry", 0)
	if err != nil {
		t.Fatalf("MemfdCreate: %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Ftruncate(fd, 4096); err != nil {
		t.Fatal(err)
	}
	mem, err := Mmap(fd, 0, 4096, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatalf("Mmap: %v", err)
	}
	if err := Mprotect(mem, unix.PROT_NONE); err != nil {
		t.Fatalf("Mprotect: %v", err)
	}
	if err := Munmap(mem); err != nil {
		t.Fatalf("Munmap: %v", err)
	}
	if _, err := Read(fd, make([]byte, 1)); err != nil {
		t.Fatalf("Read: %v", err)
	}
	for _, c := range []string{"memfd_create", "mmap", "mprotect", "munmap", "read"} {
		if failed[c] != 3 {
			t.Errorf("%s: the hook's EINTR was seen %d times, want 3 retries", c, failed[c])
		}
	}
}
