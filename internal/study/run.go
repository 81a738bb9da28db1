package study

import (
	"errors"
	"fmt"
	"image"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/sysmem"
)

// frameBuf is one buffer a study draws frames into.
type frameBuf struct {
	buf    *access.Buffer
	stride int
}

// sources allocates the study's buffers and owns what they come from: the
// heap file and the DRM device, opened on first use.
type sources struct {
	cfg    Config
	heap   *access.HeapFile
	dev    *client.Device
	devErr error // why the DRM device cannot be used, once tried
}

func (s *sources) close() error {
	var errs []error
	if s.heap != nil {
		errs = append(errs, s.heap.Close())
	}
	if s.dev != nil {
		errs = append(errs, s.dev.Close())
	}
	return errors.Join(errs...)
}

// device opens the DRM device (for dumb buffers and heap × device), or
// says why it cannot.
func (s *sources) device() (*client.Device, error) {
	if s.dev != nil || s.devErr != nil {
		return s.dev, s.devErr
	}
	if _, err := os.Stat(s.cfg.Device); err != nil {
		s.devErr = fmt.Errorf("no DRM device: %w", err)
		return nil, s.devErr
	}
	d, err := client.Open(s.cfg.Device, client.Options{})
	if err != nil {
		s.devErr = fmt.Errorf("open DRM device: %w", err)
		return nil, s.devErr
	}
	s.dev = d
	return d, nil
}

// alloc makes a buffer of size from src.
func (s *sources) alloc(src Source, size Size) (frameBuf, error) {
	stride := size.W * format.BytesPerPixel()
	n := stride * size.H
	// The buffer and a shadow copy of it: refused before allocating when
	// the machine has not that much memory to give.
	if err := sysmem.Check(2 * uint64(n)); err != nil {
		return frameBuf{}, err
	}
	var (
		b   *access.Buffer
		err error
	)
	switch src {
	case SourceHeap:
		if s.heap == nil {
			if s.heap, err = access.OpenHeap(s.cfg.Heap); err != nil {
				return frameBuf{}, err
			}
		}
		b, err = s.heap.Alloc(n)
	case SourceUdmabuf:
		b, err = access.AllocUdmabuf(n)
	case SourceMemfd:
		b, err = access.AllocMemfd(n)
	case SourceDumb:
		d, derr := s.device()
		if derr != nil {
			return frameBuf{}, derr
		}
		dumb, derr := d.CreateDumb(size.W, size.H, 32)
		if derr != nil {
			return frameBuf{}, derr
		}
		if b, err = dumb.Buffer(); err != nil {
			dumb.Close()
			return frameBuf{}, err
		}
		stride = int(dumb.Pitch)
	default:
		err = fmt.Errorf("study: unknown buffer source %d", int(src))
	}
	if err != nil {
		return frameBuf{}, err
	}
	return frameBuf{buf: b, stride: stride}, nil
}

// Run runs the study cfg describes and returns every cell. Cells that
// cannot run (no DRM device for the dumb mapping, a size that cannot be
// allocated) are listed in Result.Skipped with the reason; a source that
// cannot allocate even the smallest size is an error.
func Run(cfg Config) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	res := &Result{Machine: ReadMachine(), Source: cfg.Source, Frames: cfg.Frames, Warmup: cfg.Warmup, Started: time.Now()}
	src := &sources{cfg: cfg}
	defer src.close()

	var plain, dumb []Strategy
	for _, s := range cfg.Strategies {
		if s.Dumb {
			dumb = append(dumb, s)
		} else {
			plain = append(plain, s)
		}
	}
	skip := func(sk Skip) {
		res.Skipped = append(res.Skipped, sk)
		if cfg.Progress != nil {
			cfg.Progress(Cell{}, &sk)
		}
	}
	for i, size := range cfg.Sizes {
		groups := []struct {
			src   Source
			strat []Strategy
		}{{cfg.Source, plain}, {SourceDumb, dumb}}
		for _, g := range groups {
			if len(g.strat) == 0 {
				continue
			}
			fb, err := src.alloc(g.src, size)
			if err != nil {
				if g.src == SourceDumb && src.devErr != nil && cfg.Source != SourceDumb {
					// Said once, for every size.
					if i == 0 {
						skip(Skip{Strategy: "dumb", Reason: src.devErr.Error()})
					}
					continue
				}
				if i == 0 && g.src == cfg.Source {
					return nil, fmt.Errorf("study: %s buffer of %s: %w", g.src, size, err)
				}
				for _, s := range g.strat {
					skip(Skip{Strategy: s.String(), Size: size.String(), Reason: fmt.Sprintf("cannot allocate a %s buffer of %d bytes: %v", g.src, size.Pixels()*4, err)})
				}
				continue
			}
			for _, s := range g.strat {
				for _, w := range cfg.Workloads {
					c, err := runCell(fb, s, w, size, cfg.Frames, cfg.Warmup)
					if err != nil {
						skip(Skip{Strategy: s.String(), Workload: w.String(), Size: size.String(), Reason: err.Error()})
						continue
					}
					res.Cells = append(res.Cells, c)
					if cfg.Progress != nil {
						cfg.Progress(c, nil)
					}
				}
			}
			if err := fb.buf.Close(); err != nil {
				return nil, err
			}
		}
	}
	if cfg.HeapDevice {
		dev, err := src.device()
		if err == nil {
			res.HeapImports, res.HeapRule, err = measureHeaps(dev, cfg.Sizes, cfg.HeapTries)
		}
		if err != nil {
			skip(Skip{Strategy: "heap x device", Reason: err.Error()})
		}
	}
	res.Elapsed = time.Since(res.Started)
	res.relate()
	return res, nil
}

// relate fills in each cell's ratio to NoSync at the same workload and size.
func (r *Result) relate() {
	base := Strategy{Access: access.NoSync}
	for i, c := range r.Cells {
		if b, ok := r.Find(base, c.Workload, c.Size()); ok && b.Median > 0 {
			r.Cells[i].VsNoSync = float64(c.Median) / float64(b.Median)
		}
	}
}

// modeFor is the access a workload needs: blending reads what it draws over.
func modeFor(w Workload) access.Direction {
	if w == Spinner || w == Text {
		return access.ReadWrite
	}
	return access.Write
}

// runCell maps fb with s and draws warmup and then frames frames of w,
// measuring each.
func runCell(fb frameBuf, s Strategy, w Workload, size Size, frames, warmup int) (Cell, error) {
	m, err := access.Map(fb.buf, s.Access)
	if err != nil {
		return Cell{}, err
	}
	defer m.Close()
	p := newPainter(w, size)
	mode := modeFor(w)
	rects := make([]image.Rectangle, 0, 4)
	bpp := format.BytesPerPixel()
	var written, area int64
	frame := func(n int) error {
		pix, err := m.Begin(mode)
		if err != nil {
			return err
		}
		surf, err := fbemu.NewSurfaceOn(pix, size.W, size.H, fb.stride, format)
		if err != nil {
			m.End()
			return err
		}
		rects = p.draw(surf, n, rects[:0])
		for _, r := range rects {
			m.Damage(region(r, fb.stride))
			written += int64(r.Dx() * r.Dy() * bpp)
			area += int64(r.Dx() * r.Dy())
		}
		return m.End()
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for n := 0; n < warmup; n++ {
		if err := frame(n); err != nil {
			return Cell{}, err
		}
	}
	runtime.GC()
	written, area = 0, 0
	samples := make([]time.Duration, frames)
	st0 := m.Stats()
	f0, err := minorFaults()
	if err != nil {
		return Cell{}, err
	}
	for i := range samples {
		t0 := time.Now()
		if err := frame(warmup + i); err != nil {
			return Cell{}, err
		}
		samples[i] = time.Since(t0)
	}
	f1, err := minorFaults()
	if err != nil {
		return Cell{}, err
	}
	st1 := m.Stats()
	perFrame := func(v float64) float64 { return v / float64(frames) }
	med, p99 := quantiles(samples)
	return Cell{
		Strategy: s, Workload: w, Width: size.W, Height: size.H,
		Buffer: fb.buf.Origin(), Stride: fb.stride, Frames: frames,
		Median: med, P99: p99,
		Ioctls:       perFrame(float64(st1.Syncs - st0.Syncs)),
		Syscalls:     perFrame(float64((st1.Syncs + st1.Maps + st1.Unmaps + st1.Protects) - (st0.Syncs + st0.Maps + st0.Unmaps + st0.Protects))),
		MinorFaults:  perFrame(float64(f1 - f0)),
		BytesWritten: perFrame(float64(written)),
		BytesCopied:  perFrame(float64(st1.BytesCopied - st0.BytesCopied)),
		DamagedArea:  perFrame(float64(area)),
	}, nil
}

// quantiles returns the median and the 99th percentile (nearest rank) of
// samples, which it sorts.
func quantiles(samples []time.Duration) (median, p99 time.Duration) {
	if len(samples) == 0 {
		return 0, 0
	}
	slices.Sort(samples)
	n := len(samples)
	if n%2 == 1 {
		median = samples[n/2]
	} else {
		median = (samples[n/2-1] + samples[n/2]) / 2
	}
	rank := (99*n + 99) / 100 // ceil(0.99 n)
	return median, samples[rank-1]
}
