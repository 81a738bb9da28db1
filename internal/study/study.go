package study

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/fbemu"
)

// Strategy is one way of giving the CPU access to the frame: an
// access.Strategy on the buffer source, or (Dumb) a Cached mapping of a DRM
// dumb buffer, which is what the kernel's fbdev emulation maps when a driver
// cannot import the dma-buf.
type Strategy struct {
	// Access is how the mapping maps and syncs.
	Access access.Strategy
	// Dumb says the buffer is a DRM dumb buffer, whatever the source is.
	Dumb bool
}

// String returns the access strategy's name, or "dumb".
func (s Strategy) String() string {
	if s.Dumb {
		return "dumb"
	}
	return s.Access.String()
}

// MarshalText makes a Strategy print as its name in JSON.
func (s Strategy) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a name String returns.
func (s *Strategy) UnmarshalText(b []byte) error {
	v, err := ParseStrategy(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// Strategies returns every strategy the study knows: the five of package
// access, then the dumb-buffer mapping.
func Strategies() []Strategy {
	var out []Strategy
	for _, a := range access.Strategies() {
		out = append(out, Strategy{Access: a})
	}
	return append(out, Strategy{Access: access.Cached, Dumb: true})
}

// ParseStrategy returns the strategy called name: an access strategy
// ("cached", "per-access", "nosync", "shadow", "guarded") or "dumb".
func ParseStrategy(name string) (Strategy, error) {
	if strings.EqualFold(name, "dumb") {
		return Strategy{Access: access.Cached, Dumb: true}, nil
	}
	a, err := access.ParseStrategy(name)
	if err != nil {
		return Strategy{}, fmt.Errorf("study: unknown strategy %q (want cached, per-access, nosync, shadow, guarded or dumb)", name)
	}
	return Strategy{Access: a}, nil
}

// Workload is what one frame draws.
type Workload int

// The workloads, from the most damage to the least.
const (
	// Full redraws the whole frame: background, a centred panel and a bar.
	Full Workload = iota
	// Progress advances a progress bar by one tick: a thin sliver.
	Progress
	// Spinner redraws a spinner's square: background and eight blended dots.
	Spinner
	// Text redraws one line of text: the line's band cleared, then the text.
	Text
)

var workloadNames = [...]string{Full: "full", Progress: "progress", Spinner: "spinner", Text: "text"}

// String returns "full", "progress", "spinner" or "text".
func (w Workload) String() string {
	if w >= 0 && int(w) < len(workloadNames) {
		return workloadNames[w]
	}
	return fmt.Sprintf("Workload(%d)", int(w))
}

// MarshalText makes a Workload print as its name in JSON.
func (w Workload) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// UnmarshalText parses a name String returns.
func (w *Workload) UnmarshalText(b []byte) error {
	v, err := ParseWorkload(string(b))
	if err == nil {
		*w = v
	}
	return err
}

// Workloads returns every workload.
func Workloads() []Workload { return []Workload{Full, Progress, Spinner, Text} }

// ParseWorkload returns the workload String names.
func ParseWorkload(name string) (Workload, error) {
	for i, n := range workloadNames {
		if strings.EqualFold(name, n) {
			return Workload(i), nil
		}
	}
	return 0, fmt.Errorf("study: unknown workload %q (want %s)", name, strings.Join(workloadNames[:], ", "))
}

// Size is a frame size in pixels.
type Size struct{ W, H int }

// String returns "WxH".
func (s Size) String() string { return fmt.Sprintf("%dx%d", s.W, s.H) }

// Pixels returns W*H.
func (s Size) Pixels() int { return s.W * s.H }

// DefaultSizes are the sizes a study runs unless told otherwise: small
// panels up to 4K (skipped, saying why, when it cannot be allocated).
func DefaultSizes() []Size {
	return []Size{{480, 272}, {800, 480}, {1280, 720}, {1920, 1080}, {3840, 2160}}
}

// ParseSize parses "WxH".
func ParseSize(s string) (Size, error) {
	ws, hs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	w, werr := strconv.Atoi(ws)
	h, herr := strconv.Atoi(hs)
	if !ok || werr != nil || herr != nil || w < 16 || h < 16 || w > fbemu.MaxSide || h > fbemu.MaxSide {
		return Size{}, fmt.Errorf("study: bad size %q (want WxH, each 16 to %d: what KMS can scan out)", s, fbemu.MaxSide)
	}
	return Size{w, h}, nil
}

// Source is where the frame's memory comes from.
type Source int

// The buffer sources.
const (
	// SourceHeap allocates from a DMA-BUF heap (/dev/dma_heap).
	SourceHeap Source = iota
	// SourceUdmabuf makes a dma-buf from a sealed memfd with /dev/udmabuf.
	SourceUdmabuf
	// SourceDumb allocates DRM dumb buffers on a display device.
	SourceDumb
	// SourceMemfd uses plain memfds, as the emulated display does: no
	// dma-buf, so brackets never sync.
	SourceMemfd
)

var sourceNames = [...]string{SourceHeap: "heap", SourceUdmabuf: "udmabuf", SourceDumb: "dumb", SourceMemfd: "memfd"}

// String returns "heap", "udmabuf", "dumb" or "memfd".
func (s Source) String() string {
	if s >= 0 && int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", int(s))
}

// MarshalText makes a Source print as its name in JSON.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a name String returns.
func (s *Source) UnmarshalText(b []byte) error {
	v, err := ParseSource(string(b))
	if err == nil {
		*s = v
	}
	return err
}

// ParseSource returns the source String names.
func ParseSource(name string) (Source, error) {
	for i, n := range sourceNames {
		if strings.EqualFold(name, n) {
			return Source(i), nil
		}
	}
	return 0, fmt.Errorf("study: unknown buffer source %q (want %s)", name, strings.Join(sourceNames[:], ", "))
}

// Config says what a study runs.
type Config struct {
	// Frames is the number of measured frames per cell (default 50).
	Frames int
	// Warmup is the number of frames drawn before measuring (default 5).
	Warmup int
	// Sizes default to DefaultSizes.
	Sizes []Size
	// Strategies default to Strategies.
	Strategies []Strategy
	// Workloads default to Workloads.
	Workloads []Workload
	// Source is where buffers come from.
	Source Source
	// Heap names the DMA-BUF heap for SourceHeap ("" for the default).
	Heap string
	// Device is the DRM node for dumb buffers ("" for /dev/dri/card0).
	Device string
	// HeapDevice measures heap × device as well: buffers of every heap, at
	// every size, imported into Device (see HeapImport).
	HeapDevice bool
	// HeapTries is the number of buffers of each heap and size held at
	// once for heap × device (default 4, at most MaxHeapTries).
	HeapTries int
	// Progress, if not nil, is called after each cell and each skip.
	Progress func(done Cell, skipped *Skip)
}

// withDefaults fills the zero fields of c and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Frames == 0 {
		c.Frames = 50
	}
	if c.Warmup == 0 {
		c.Warmup = 5
	}
	if c.Frames < 1 || c.Warmup < 0 {
		return c, fmt.Errorf("study: %d frames after %d warm-up frames: want at least 1 frame and no negative warm-up", c.Frames, c.Warmup)
	}
	if len(c.Sizes) == 0 {
		c.Sizes = DefaultSizes()
	}
	if len(c.Strategies) == 0 {
		c.Strategies = Strategies()
	}
	if len(c.Workloads) == 0 {
		c.Workloads = Workloads()
	}
	if c.Device == "" {
		c.Device = "/dev/dri/card0"
	}
	if c.HeapTries == 0 {
		c.HeapTries = heapTries
	}
	if c.HeapTries < 1 || c.HeapTries > MaxHeapTries {
		return c, fmt.Errorf("study: %d heap tries: want 1 to %d", c.HeapTries, MaxHeapTries)
	}
	if c.Source < SourceHeap || c.Source > SourceMemfd {
		return c, fmt.Errorf("study: unknown buffer source %d", int(c.Source))
	}
	return c, nil
}

// Cell is what one strategy did on one workload at one size.
type Cell struct {
	// Strategy, Workload, Width and Height say which cell this is.
	Strategy Strategy `json:"strategy"`
	Workload Workload `json:"workload"`
	Width    int      `json:"width"`
	Height   int      `json:"height"`
	// Buffer describes the memory drawn into: `heap "system"`, "memfd",
	// "dumb (cirrus)".
	Buffer string `json:"buffer"`
	// Stride is the buffer's line length in bytes.
	Stride int `json:"stride"`
	// Frames is the number of measured frames.
	Frames int `json:"frames"`
	// Median and P99 are the frame times: Begin, drawing, Damage and End.
	Median time.Duration `json:"median_ns"`
	P99    time.Duration `json:"p99_ns"`
	// VsNoSync is Median divided by NoSync's median at the same workload
	// and size in the same run (0 when NoSync did not run).
	VsNoSync float64 `json:"vs_nosync,omitempty"`
	// Per frame: DMA_BUF_IOCTL_SYNC calls, all syscalls of the mapping
	// (syncs, mmap, munmap, mprotect) and minor page faults of the drawing
	// thread.
	Ioctls      float64 `json:"ioctls_per_frame"`
	Syscalls    float64 `json:"syscalls_per_frame"`
	MinorFaults float64 `json:"minor_faults_per_frame"`
	// Per frame: the bytes the workload damaged (drew), the bytes Shadow
	// copied into the buffer at End, and the damaged area in pixels.
	BytesWritten float64 `json:"bytes_written_per_frame"`
	BytesCopied  float64 `json:"bytes_copied_per_frame"`
	DamagedArea  float64 `json:"damaged_pixels_per_frame"`
}

// Size returns the cell's frame size.
func (c Cell) Size() Size { return Size{c.Width, c.Height} }

// Skip is a cell (or a group of cells) that did not run, and why.
type Skip struct {
	// Strategy, Workload and Size are "" when the skip covers all of them.
	Strategy string `json:"strategy,omitempty"`
	Workload string `json:"workload,omitempty"`
	Size     string `json:"size,omitempty"`
	Reason   string `json:"reason"`
}

// String reads like "dumb at 3840x2160: no /dev/dri/card0".
func (s Skip) String() string {
	var what []string
	for _, w := range []string{s.Strategy, s.Workload} {
		if w != "" {
			what = append(what, w)
		}
	}
	if s.Size != "" {
		what = append(what, "at "+s.Size)
	}
	if len(what) == 0 {
		return s.Reason
	}
	return strings.Join(what, " ") + ": " + s.Reason
}

// Result is a whole study: where it ran, what it ran, and every cell.
type Result struct {
	// Machine is where the study ran.
	Machine Machine `json:"machine"`
	// Source is where the buffers of all but the dumb cells came from.
	Source Source `json:"source"`
	// Frames and Warmup are the measured and the warm-up frames per cell.
	Frames int `json:"frames"`
	Warmup int `json:"warmup"`
	// Started is when the study began.
	Started time.Time `json:"started"`
	// Elapsed is the wall time of the whole study.
	Elapsed time.Duration `json:"elapsed_ns"`
	// Cells are the measurements, in the order they ran.
	Cells []Cell `json:"cells"`
	// Skipped are the cells that did not run, and why.
	Skipped []Skip `json:"skipped,omitempty"`
	// HeapRule is the heap rule's choice for the device and why
	// (client.HeapChoice.Why), and HeapImports the heap × device rows,
	// when Config.HeapDevice asked for them.
	HeapRule    string       `json:"heap_rule,omitempty"`
	HeapImports []HeapImport `json:"heap_device,omitempty"`
}

// Find returns the cell of strategy s, workload w and size z.
func (r *Result) Find(s Strategy, w Workload, z Size) (Cell, bool) {
	for _, c := range r.Cells {
		if c.Strategy == s && c.Workload == w && c.Size() == z {
			return c, true
		}
	}
	return Cell{}, false
}

// ErrNoPlots is what WritePlots returns in a binary built without the
// plots tag.
var ErrNoPlots = errors.New("plots are unavailable in this build (rebuild with -tags plots)")

// AutoSource is the source a study uses when none is named: the DMA-BUF
// heap if the kernel has one (/dev/dma_heap), else memfds as the emulated
// display uses.
func AutoSource() Source {
	if _, err := os.Stat("/dev/dma_heap"); err == nil {
		return SourceHeap
	}
	return SourceMemfd
}
