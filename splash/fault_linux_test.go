package splash

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/uapi"
)

// The sweep runs Run on this card with buffers from this heap.
const (
	sweepCard = "/dev/dri/card0"
	sweepHeap = "/dev/dma_heap/system"
)

// sweepErrors are the errors every kernel call site is made to fail with.
var sweepErrors = []unix.Errno{unix.EINVAL, unix.ENOMEM, unix.EACCES, unix.EBUSY, unix.ENODEV}

// sweepRecord is what one Run did under a fault hook.
type sweepRecord struct {
	err        error
	panicked   any
	logs       []string
	firstFrame bool
	fallbacks  []string    // the "fallback:" lines of the log
	sites      []uapi.Site // every call the hook saw, in order
	file       int         // a duplicate of Run's DRM fd, or -1
}

// sweepLog records Run's log messages and ends the run once the first
// frame is up.
type sweepLog struct {
	mu     sync.Mutex
	msgs   []string
	cancel context.CancelFunc
}

func (h *sweepLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *sweepLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *sweepLog) WithGroup(string) slog.Handler            { return h }
func (h *sweepLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	if strings.HasPrefix(r.Message, "first frame") {
		h.cancel()
	}
	return nil
}

// resetVT puts the foreground VT back in text mode, past the fault hook:
// a run whose restore was made to fail leaves it in graphics mode, where
// the next run would leave it alone and make other calls.
func resetVT() {
	fd, err := unix.Open("/dev/tty0", unix.O_WRONLY|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	unix.IoctlSetInt(fd, uapi.KDSETMODE, uapi.KD_TEXT)
}

// openFds returns the fds open on path.
func openFds(path string) []int {
	var fds []int
	links, _ := filepath.Glob("/proc/self/fd/*")
	for _, l := range links {
		if dst, err := os.Readlink(l); err == nil && dst == path {
			if n, err := strconv.Atoi(filepath.Base(l)); err == nil {
				fds = append(fds, n)
			}
		}
	}
	return fds
}

// sweepRun runs Run with the hook deciding each call's fate (nil: let it
// through). The hook also keeps a duplicate of the DRM fd Run opens, so
// that what Run leaves behind on its device file outlives Run's close of
// it and can be counted; the caller closes rec.file.
func sweepRun(t *testing.T, legacy bool, decide func(i int, s uapi.Site) error) (rec sweepRecord) {
	t.Helper()
	resetVT()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	h := &sweepLog{cancel: cancel}
	rec.file = -1
	before := openFds(sweepCard)
	var mu sync.Mutex
	cardOpen := false
	restore := uapi.SetFaultHook(func(s uapi.Site) error {
		mu.Lock()
		defer mu.Unlock()
		if cardOpen && rec.file < 0 {
			// The first call after Run opened the card: keep its file.
			for _, fd := range openFds(sweepCard) {
				if !slices.Contains(before, fd) {
					if d, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0); err == nil {
						rec.file = d
						before = append(before, d)
					}
					break
				}
			}
		}
		i := len(rec.sites)
		rec.sites = append(rec.sites, s)
		err := decide(i, s)
		if err == nil && s.Call == "open" && s.Path == sweepCard {
			cardOpen = true
		}
		return err
	})
	func() {
		defer func() { rec.panicked = recover() }()
		rec.err = Run(ctx, Config{Device: sweepCard, Backend: BackendKMS, Legacy: legacy, Log: slog.New(h)})
	}()
	restore()
	h.mu.Lock()
	rec.logs = slices.Clone(h.msgs)
	h.mu.Unlock()
	for _, m := range rec.logs {
		rec.firstFrame = rec.firstFrame || strings.HasPrefix(m, "first frame")
		if strings.HasPrefix(m, "fallback:") {
			rec.fallbacks = append(rec.fallbacks, m)
		}
	}
	return rec
}

// debugfsFramebuffers returns the ids of the card's framebuffers listed in
// debugfs, or ok false when debugfs does not show them.
func debugfsFramebuffers() (ids []int, ok bool) {
	var st unix.Stat_t
	if unix.Stat(sweepCard, &st) != nil {
		return nil, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/sys/kernel/debug/dri/%d/framebuffer", unix.Minor(st.Rdev)))
	if err != nil {
		return nil, false
	}
	for _, m := range regexp.MustCompile(`framebuffer\[(\d+)\]`).FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		ids = append(ids, n)
	}
	sort.Ints(ids)
	return ids, true
}

// rawIoctl is an ioctl the test makes to look at the device, past the
// fault hook (which may be the caller).
func rawIoctl(fd int, req uint, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR, unix.EAGAIN:
			continue
		}
		return e
	}
}

// ownedBy releases, through fd, every property blob and framebuffer from
// id 1 to max that fd's file owns, and returns their ids. The kernel lets
// a file destroy only its own blobs (others: EPERM) and remove only its
// own framebuffers (others: ENOENT), so blobs the kernel's own clients
// make meanwhile (the console's damage clips) are not counted.
func ownedBy(fd int, max int) (blobs, fbs []int) {
	for id := 1; id <= max; id++ {
		d := uapi.ModeDestroyBlob{Id: uint32(id)}
		if rawIoctl(fd, uapi.DRM_IOCTL_MODE_DESTROYPROPBLOB, unsafe.Pointer(&d)) == nil {
			blobs = append(blobs, id)
		}
		fb := uint32(id)
		if rawIoctl(fd, uapi.DRM_IOCTL_MODE_RMFB, unsafe.Pointer(&fb)) == nil {
			fbs = append(fbs, id)
		}
	}
	return blobs, fbs
}

// maxObjectID returns the highest property blob id up to 4096, through a
// file of its own that it closes again (an open file would take DRM master
// from the next run).
func maxObjectID(t *testing.T) int {
	t.Helper()
	fd, err := unix.Open(sweepCard, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	n := 0
	for id := 1; id <= 4096; id++ {
		g := uapi.ModeGetBlob{Id: uint32(id)}
		if rawIoctl(fd, uapi.DRM_IOCTL_MODE_GETPROPBLOB, unsafe.Pointer(&g)) == nil {
			n = id
		}
	}
	if fbs, _ := debugfsFramebuffers(); len(fbs) > 0 {
		n = max(n, fbs[len(fbs)-1])
	}
	return n
}

// lowestHandles creates n dumb buffers on fd and returns their GEM
// handles, then destroys them. The kernel hands out the lowest free
// handles, so on a file with no handle left they are 1..n.
func lowestHandles(t *testing.T, fd, n int) []uint32 {
	t.Helper()
	var hs []uint32
	for range n {
		c := uapi.ModeCreateDumb{Width: 8, Height: 8, Bpp: 32}
		if err := rawIoctl(fd, uapi.DRM_IOCTL_MODE_CREATE_DUMB, unsafe.Pointer(&c)); err != nil {
			t.Fatalf("create a dumb buffer to count GEM handles: %v", err)
		}
		hs = append(hs, c.Handle)
	}
	for _, h := range hs {
		d := uapi.ModeDestroyDumb{Handle: h}
		if err := rawIoctl(fd, uapi.DRM_IOCTL_MODE_DESTROY_DUMB, unsafe.Pointer(&d)); err != nil {
			t.Fatalf("destroy dumb buffer %d: %v", h, err)
		}
	}
	return hs
}

// releaseSite reports whether s gives something back: when it fails, what
// it would have released stays until the process ends (a mapping) or its
// device file is closed (framebuffers, GEM handles, blobs).
func releaseSite(s uapi.Site) bool {
	if s.Call == "munmap" {
		return true
	}
	switch s.Req {
	case uapi.DRM_IOCTL_MODE_RMFB, uapi.DRM_IOCTL_MODE_CLOSEFB, uapi.DRM_IOCTL_GEM_CLOSE,
		uapi.DRM_IOCTL_MODE_DESTROY_DUMB, uapi.DRM_IOCTL_MODE_DESTROYPROPBLOB:
		return s.Call == "ioctl"
	}
	return false
}

// capSite reports whether s asks for a capability: its failure is taken
// as "not supported" and changes the way on, so a later error need not
// carry the injected one.
func capSite(s uapi.Site) bool {
	return s.Call == "ioctl" && (s.Req == uapi.DRM_IOCTL_GET_CAP || s.Req == uapi.DRM_IOCTL_SET_CLIENT_CAP)
}

// sweepState is what the device and the process hold between runs.
type sweepState struct {
	objects []string
	fbs     []int
}

func takeState() sweepState {
	fbs, _ := debugfsFramebuffers()
	return sweepState{objects: testutil.Objects(), fbs: fbs}
}

// unmapLeaked unmaps the dma-buf and memfd mappings in extra (left by a
// munmap made to fail), so that later runs start clean.
func unmapLeaked(extra []string) int {
	n := 0
	for _, o := range extra {
		f := strings.Fields(o)
		if len(f) < 2 || f[0] != "map" {
			continue
		}
		lo, hi, ok := strings.Cut(f[1], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MUNMAP, uintptr(a), uintptr(b-a), 0); e == 0 {
			n++
		}
	}
	return n
}

// difference returns what is in now but not in before.
func difference[T comparable](now, before []T) []T {
	var out []T
	for _, x := range now {
		if !slices.Contains(before, x) {
			out = append(out, x)
		}
	}
	return out
}

// sweepCounts are the sweep's numbers, for its closing log line.
type sweepCounts struct {
	runs, fallbacks, errs, absorbed, leaks, releaseResidue int
	absorbedAt                                             map[string]bool
	// bySite tallies outcomes per distinct call, with one error's text.
	bySite map[string]*siteTally
}

type siteTally struct {
	fallback, absorbed, errs int
	sample                   string
}

// checkRun checks one faulted run: a first frame (with the fallback it
// took, if any) or an error naming what failed; nothing left behind on
// the device file Run used, or in the process, or on the device.
func checkRun(t *testing.T, name string, rec sweepRecord, injected error, site uapi.Site, before sweepState, ref sweepRef, c *sweepCounts) {
	t.Helper()
	c.runs++
	if c.bySite == nil {
		c.bySite = map[string]*siteTally{}
	}
	st := c.bySite[site.String()]
	if st == nil {
		st = &siteTally{}
		c.bySite[site.String()] = st
	}
	if rec.panicked != nil {
		t.Errorf("%s: Run panicked: %v", name, rec.panicked)
	}
	switch {
	case rec.err == nil && rec.firstFrame:
		if len(difference(rec.fallbacks, ref.fallbacks)) > 0 {
			c.fallbacks++
			st.fallback++
		} else {
			c.absorbed++
			st.absorbed++
			c.absorbedAt[site.String()] = true
		}
		// Device.Close destroys its mode blobs just before it closes the
		// file, which destroys them anyway, as it documents. The page
		// offered to the driver before the frame's buffer is released
		// on the way to the frame, and a failure there is a fallback's
		// note.
		if injected != nil && releaseSite(site) && site.Req != uapi.DRM_IOCTL_MODE_DESTROYPROPBLOB && !slices.ContainsFunc(rec.logs, func(m string) bool {
			return strings.HasPrefix(m, "release the display: ") && strings.Contains(m, injected.Error())
		}) && !slices.ContainsFunc(rec.fallbacks, func(m string) bool {
			return strings.Contains(m, "a page of ") && strings.Contains(m, ": release: ") && strings.Contains(m, injected.Error())
		}) {
			t.Errorf("%s: Run returned nil and neither its log nor its fallbacks report the failed release: %q, %q", name, rec.logs, rec.fallbacks)
		}
	case rec.err == nil:
		t.Errorf("%s: Run returned nil without a first frame; log: %q", name, rec.logs)
	default:
		c.errs++
		st.errs++
		msg := rec.err.Error()
		if st.sample == "" {
			st.sample = msg
		}
		if injected != nil && !capSite(site) && !errors.Is(rec.err, injected) && !strings.Contains(msg, injected.Error()) {
			t.Errorf("%s: error %q does not carry the injected %v", name, msg, injected)
		}
		if injected != nil && len(strings.TrimSpace(strings.ReplaceAll(msg, injected.Error(), ""))) < 8 {
			t.Errorf("%s: error %q does not say what was tried", name, msg)
		}
	}
	release := releaseSite(site)
	// What Run left on its device file, which the duplicate keeps open.
	if rec.file >= 0 {
		if !release {
			deadline := time.Now().Add(2 * time.Second)
			for {
				hs := lowestHandles(t, rec.file, 4)
				blobs, newFBs := ownedBy(rec.file, ref.maxID)
				if slices.Equal(hs, []uint32{1, 2, 3, 4}) && len(blobs) == 0 && len(newFBs) == 0 {
					break
				}
				if time.Now().After(deadline) {
					c.leaks++
					t.Errorf("%s: Run left on its device file: GEM handles (fresh ones got %v, want 1..4), blobs %v, framebuffers %v",
						name, hs, blobs, newFBs)
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		unix.Close(rec.file)
	}
	// What the process and the device hold once the file is closed.
	deadline := time.Now().Add(2 * time.Second)
	for {
		after := takeState()
		extraObj := difference(after.objects, before.objects)
		extraFB := difference(after.fbs, before.fbs)
		if len(extraObj) == 0 && len(extraFB) == 0 {
			break
		}
		if time.Now().After(deadline) {
			if release && len(extraFB) == 0 && site.Call == "munmap" && unmapLeaked(extraObj) == len(extraObj) {
				// The mapping whose munmap failed, and nothing else.
				c.releaseResidue++
				break
			}
			c.leaks++
			t.Errorf("%s: left behind: %q, framebuffers %v", name, extraObj, extraFB)
			unmapLeaked(extraObj)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sweepRef is what a clean run sees.
type sweepRef struct {
	sites []uapi.Site
	maxID int
	// fallbacks are the ones the device always takes (bochs cannot
	// import a dma-buf, so every run ends up on a dumb buffer).
	fallbacks []string
}

// TestFaultSweep makes every kernel call on Run's way to the first frame
// (and back) fail in turn, with each of sweepErrors, and checks that Run
// either shows the first frame (through a documented fallback, or without
// the call where it is optional) or returns an error naming what failed,
// never panics, and leaves no fd, mapping, GEM handle, property blob or
// framebuffer behind. Then it answers every ioctl with a storm of EINTR
// and checks that the first frame still comes up.
func TestFaultSweep(t *testing.T) {
	testutil.NeedPath(t, sweepCard)
	testutil.NeedPath(t, sweepHeap)
	start := time.Now()
	if _, ok := debugfsFramebuffers(); !ok {
		if testutil.InVM() {
			t.Fatal("debugfs does not list the card's framebuffers (is it mounted?)")
		}
		t.Log("debugfs does not list the card's framebuffers: leaked framebuffers are counted on Run's file only")
	}

	maxID := maxObjectID(t)
	checkInstruments(t, maxID+256)
	// The atomic API is what Run uses; the legacy one (--legacy, and old
	// drivers) has call sites of its own, swept more briefly.
	t.Run("atomic", func(t *testing.T) { sweep(t, false, maxID, start) })
	t.Run("legacy", func(t *testing.T) { sweep(t, true, maxID, time.Now()) })
}

// sweep runs the fault sweep with the atomic or the legacy API.
func sweep(t *testing.T, legacy bool, maxID int, start time.Time) {
	// The reference run lists the calls.
	base := takeState()
	rec := sweepRun(t, legacy, func(int, uapi.Site) error { return nil })
	if rec.panicked != nil {
		t.Fatalf("reference run panicked: %v", rec.panicked)
	}
	if rec.err != nil || !rec.firstFrame {
		if rec.file >= 0 {
			unix.Close(rec.file)
		}
		// Outside the VM a display server may hold the display.
		testutil.Unavailable(t, "reference run: %v; log %q", rec.err, rec.logs)
	}
	if rec.file < 0 {
		t.Fatal("reference run: did not see Run's DRM fd")
	}
	ref := sweepRef{sites: rec.sites, maxID: maxID + 256, fallbacks: rec.fallbacks}
	c := &sweepCounts{absorbedAt: map[string]bool{}}
	checkRun(t, "reference run", rec, nil, uapi.Site{}, base, ref, c)
	*c = sweepCounts{absorbedAt: map[string]bool{}}

	var names []string
	distinct := map[string]bool{}
	for i, s := range ref.sites {
		names = append(names, fmt.Sprintf("%d:%s", i, s))
		distinct[s.Call+" "+s.String()] = true
	}
	t.Logf("%d kernel calls on the way to the first frame and back (%d distinct): %s", len(ref.sites), len(distinct), strings.Join(names, " "))

	// Every call with every error when that fits the time, else every
	// distinct call with every error and every call with EINVAL.
	type fault struct {
		i   int
		err unix.Errno
	}
	var faults []fault
	full := !legacy && len(ref.sites)*len(sweepErrors) <= 600 || os.Getenv("BOOTSPLASH_SWEEP_FULL") == "1"
	firstOf := map[string]int{}
	for i, s := range ref.sites {
		k := s.Call + " " + s.String()
		if _, seen := firstOf[k]; !seen {
			firstOf[k] = i
		}
		for _, e := range sweepErrors {
			if full || e == unix.EINVAL || firstOf[k] == i {
				faults = append(faults, fault{i, e})
			}
		}
	}
	shifted := 0
	for _, f := range faults {
		site := ref.sites[f.i]
		name := fmt.Sprintf("call %d (%s) failing with %s", f.i, site, unix.ErrnoName(f.err))
		before := takeState()
		var rec sweepRecord
		for attempt := 0; ; attempt++ {
			rec = sweepRun(t, legacy, func(i int, s uapi.Site) error {
				if i == f.i && s == site {
					return f.err
				}
				return nil
			})
			if len(rec.sites) > f.i && rec.sites[f.i] == site || attempt == 2 {
				break
			}
			// The calls before it came out differently (a real EINTR
			// retried, say): try again.
			shifted++
			if rec.file >= 0 {
				unix.Close(rec.file)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(rec.sites) <= f.i || rec.sites[f.i] != site {
			t.Errorf("%s: the run made other calls than the reference run; not tested", name)
			if rec.file >= 0 {
				unix.Close(rec.file)
			}
			continue
		}
		checkRun(t, name, rec, f.err, site, before, ref, c)
		if t.Failed() && c.leaks > 10 {
			t.Fatal("too many leaks; stopping")
		}
	}

	// An EINTR storm: every ioctl and open interrupted 50 times before it
	// goes through. The wrapper asks the hook again on each retry, so the
	// hook sees each call 51 times and lets the last one through.
	var calls, interrupts, asked int
	stormBefore := takeState()
	rec = sweepRun(t, legacy, func(i int, s uapi.Site) error {
		if s.Call != "ioctl" && s.Call != "open" {
			return nil
		}
		asked++
		if asked%51 != 0 {
			interrupts++
			return unix.EINTR
		}
		calls++
		return nil
	})
	if rec.err != nil || !rec.firstFrame || rec.panicked != nil {
		t.Errorf("EINTR storm: %v (panic %v); log %q", rec.err, rec.panicked, rec.logs)
	}
	checkRun(t, "EINTR storm", rec, nil, uapi.Site{}, stormBefore, ref, &sweepCounts{absorbedAt: map[string]bool{}})

	var tally []string
	for name, st := range c.bySite {
		tally = append(tally, fmt.Sprintf("  %-36s fallback %3d  without %3d  error %3d  %s", name, st.fallback, st.absorbed, st.errs, st.sample))
	}
	sort.Strings(tally)
	t.Logf("outcomes per call:\n%s", strings.Join(tally, "\n"))
	var absorbed []string
	for s := range c.absorbedAt {
		absorbed = append(absorbed, s)
	}
	sort.Strings(absorbed)
	mode := "every call with every error"
	if !full {
		mode = "every distinct call with every error, every call with EINVAL"
	}
	t.Logf("fault sweep (%s): %d call sites (%d distinct) x %d errors; %d faulted runs: %d first frames through a fallback, %d first frames without the call (%s), %d errors returned; %d leaks found, %d mappings left by a failed munmap (unmapped by the test); %d reruns for a shifted call sequence; EINTR storm: %d calls through %d interrupts; %.1fs",
		mode, len(ref.sites), len(distinct), len(sweepErrors), c.runs, c.fallbacks, c.absorbed, strings.Join(absorbed, ", "), c.errs,
		c.leaks, c.releaseResidue, shifted, calls, interrupts, time.Since(start).Seconds())
}

// checkInstruments leaves a GEM handle, a blob and a framebuffer on a file
// of its own and checks that the sweep's counting finds each of them.
func checkInstruments(t *testing.T, maxID int) {
	t.Helper()
	fd, err := unix.Open(sweepCard, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c := uapi.ModeCreateDumb{Width: 64, Height: 64, Bpp: 32}
	if err := rawIoctl(fd, uapi.DRM_IOCTL_MODE_CREATE_DUMB, unsafe.Pointer(&c)); err != nil {
		t.Fatalf("create dumb: %v", err)
	}
	fb := uapi.ModeFbCmd{Width: 64, Height: 64, Pitch: c.Pitch, Bpp: 32, Depth: 24, Handle: c.Handle}
	if err := rawIoctl(fd, uapi.DRM_IOCTL_MODE_ADDFB, unsafe.Pointer(&fb)); err != nil {
		t.Fatalf("add framebuffer: %v", err)
	}
	data := []byte("bootsplash")
	b := uapi.ModeCreateBlob{Data: uapi.SlicePointer(data), Length: uint32(len(data))}
	if err := rawIoctl(fd, uapi.DRM_IOCTL_MODE_CREATEPROPBLOB, unsafe.Pointer(&b)); err != nil {
		t.Fatalf("create blob: %v", err)
	}
	if fbs, ok := debugfsFramebuffers(); ok && !slices.Contains(fbs, int(fb.Id)) {
		t.Errorf("debugfs does not list framebuffer %d: %v", fb.Id, fbs)
	}
	if hs := lowestHandles(t, fd, 2); hs[0] == 1 {
		t.Errorf("a fresh GEM handle is 1 while handle %d is open", c.Handle)
	}
	blobs, fbs := ownedBy(fd, maxID)
	if !slices.Equal(blobs, []int{int(b.Id)}) || !slices.Equal(fbs, []int{int(fb.Id)}) {
		t.Errorf("a file owning blob %d and framebuffer %d: found blobs %v, framebuffers %v", b.Id, fb.Id, blobs, fbs)
	}
	d := uapi.ModeDestroyDumb{Handle: c.Handle}
	if err := rawIoctl(fd, uapi.DRM_IOCTL_MODE_DESTROY_DUMB, unsafe.Pointer(&d)); err != nil {
		t.Fatal(err)
	}
	if hs := lowestHandles(t, fd, 2); !slices.Equal(hs, []uint32{1, 2}) {
		t.Errorf("fresh GEM handles on a clean file: %v, want 1, 2", hs)
	}
}
