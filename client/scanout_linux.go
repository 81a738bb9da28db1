package client

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/kerror"
)

// pitchAlign is the row alignment of heap and udmabuf scanout buffers; 64
// bytes suits every scanout engine's DMA.
const pitchAlign = 64

// NewScanout makes a w×h framebuffer of format f whose memory the CPU can
// write: the userspace drm_client_buffer. With SourceAuto it tries, in
// order, a DMA-BUF heap buffer imported over PRIME from each heap in the
// order the heap rule gives for this device (Device.HeapChoice: CMA first
// for a display that scans out only contiguous memory, "system" first
// otherwise; with a single heap the device is not classified), a udmabuf
// imported over PRIME unless the driver refused a heap's buffer, and a
// dumb buffer of the device, recording in Fallbacks why each earlier path
// failed, in Path which one was taken and in Choice why the heaps were
// tried in that order. Before the first buffer it would import, it offers
// the driver one page of the same source (probeImport): a page refused
// skips every imported path. SourceHeap tries the heaps alone, without
// the page. A heap named in opts.Heap is the only heap tried. What a
// failed path made is released before the next is tried.
func NewScanout(dev *Device, w, h int, f Format, opts ScanoutOptions) (*Scanout, error) {
	bpp := f.BytesPerPixel()
	if w <= 0 || h <= 0 || bpp == 0 {
		return nil, fmt.Errorf("scanout %dx%d %s on %s: need a positive size and a packed RGB format", w, h, f, dev.name())
	}
	var choice HeapChoice
	var listErr error // why no heap could be listed
	if (opts.Source == SourceAuto || opts.Source == SourceHeap) && opts.Heap == "" {
		choice, listErr = dev.scanoutHeapChoice()
	}
	steps, err := scanoutSteps(opts, choice)
	if err != nil {
		return nil, fmt.Errorf("scanout on %s: %w", dev.name(), err)
	}
	var fallbacks []string
	var errs []error
	var refused error    // a heap buffer the driver would not import
	var refusedAll error // a page of one the driver would not import
	probed := false
	for _, st := range steps {
		if st.src == SourceHeap && st.heap == "" && listErr != nil {
			// No heap to offer a page of or to allocate from, as
			// listing them said: /dev/dma_heap is read once.
			fallbacks = append(fallbacks, "heap: "+listErr.Error())
			errs = append(errs, listErr)
			continue
		}
		imported := st.src == SourceHeap || st.src == SourceUdmabuf
		if imported && refusedAll != nil {
			fallbacks = append(fallbacks, scanoutLabel(st)+": not tried: "+refusedAll.Error())
			continue
		}
		if st.src == SourceUdmabuf && refused != nil {
			// A udmabuf is scattered pages imported the same way: a
			// driver that refused the heap's buffer refuses it too,
			// after a 3 MB allocation and pin on the way to the
			// first frame.
			fallbacks = append(fallbacks, "udmabuf: not tried: the heap's dma-buf was refused ("+refused.Error()+"), and a udmabuf is imported the same way")
			continue
		}
		if imported && opts.Source == SourceAuto && !probed {
			// Before the frame's buffer, one page of it: a driver
			// that imports no dma-buf it did not export (bochs,
			// virtio-gpu) refuses the page as it would the buffer,
			// which is then neither allocated nor cleared.
			var note string
			probed, refusedAll, note = dev.probeImport(st.src, st.heap)
			if note != "" {
				fallbacks = append(fallbacks, note)
			}
			if refusedAll != nil {
				fallbacks = append(fallbacks, scanoutLabel(st)+": not tried: "+refusedAll.Error())
				continue
			}
		}
		s, label, err := dev.tryScanout(st.src, w, h, f, bpp, st.heap)
		if st.src == SourceHeap && errors.Is(err, ErrImportUnsupported) {
			refused = err
		}
		if err == nil {
			s.Source = st.src
			s.Fallbacks = fallbacks
			s.Choice = choice
			return s, nil
		}
		fallbacks = append(fallbacks, label+": "+err.Error())
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("scanout %dx%d %s on %s: every buffer source failed: %w",
		w, h, f, dev.name(), errors.Join(errs...))
}

// scanoutLabel names a step as a fallback reason does.
func scanoutLabel(st scanoutStep) string {
	switch {
	case st.src == SourceUdmabuf:
		return "udmabuf"
	case st.src == SourceHeap && st.heap != "":
		return fmt.Sprintf("heap %q", st.heap)
	}
	return "heap"
}

// probeImport offers the driver one page of src (a buffer of the heap
// named heap, or a udmabuf) over PRIME and releases it. probed says the
// page was made and offered; refused is why the driver would not take it,
// which it would not take the frame's buffer for either (it imports no
// dma-buf it did not export: bochs, virtio-gpu). A page taken says
// nothing of the whole buffer (a driver that scans out only contiguous
// memory takes a page of anything), nor does a page that could not be
// made: the frame's buffer is then tried and says why itself. note is a
// failure to release the page, for the fallbacks.
func (d *Device) probeImport(src Source, heap string) (probed bool, refused error, note string) {
	page := unix.Getpagesize()
	label := "udmabuf"
	var b *access.Buffer
	var err error
	if src == SourceHeap {
		var hf *access.HeapFile
		if hf, err = access.OpenHeap(heap); err != nil {
			return false, nil, ""
		}
		label = fmt.Sprintf("heap %q", hf.Name())
		b, err = hf.Alloc(page)
		hf.Close()
	} else {
		b, err = access.AllocUdmabuf(page)
	}
	if err != nil {
		return false, nil, ""
	}
	var errs []error
	g, err := d.ImportDmaBuf(b.Fd())
	if err != nil {
		if r := d.importRefused(err); r != nil {
			refused = fmt.Errorf("a page of %s was refused (%w), and every dma-buf is imported the same way", label, r)
		}
	} else {
		errs = append(errs, g.Close())
	}
	errs = append(errs, b.Close())
	if err := errors.Join(errs...); err != nil {
		note = fmt.Sprintf("a page of %s offered to %s: release: %v", label, d.name(), err)
	}
	return true, refused, note
}

// tryScanout makes a scanout along one path; label names the path for a
// fallback reason. On error everything made is released.
func (d *Device) tryScanout(src Source, w, h int, f Format, bpp int, heap string) (s *Scanout, label string, err error) {
	s = &Scanout{dev: d, Width: w, Height: h, Format: f}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()
	pitch := (w*bpp + pitchAlign - 1) / pitchAlign * pitchAlign
	size := pitch * h
	switch src {
	case SourceHeap:
		label = "heap"
		if heap == "" {
			// Name the default heap in the fallback reason; if it
			// cannot be found, OpenHeap says why.
			heap, _ = access.DefaultHeapName()
		}
		if heap != "" {
			label = fmt.Sprintf("heap %q", heap)
		}
		hf, err := access.OpenHeap(heap)
		if err != nil {
			return s, label, err
		}
		label = fmt.Sprintf("heap %q", hf.Name())
		s.Heap = hf.Name()
		s.Buffer, err = hf.Alloc(size)
		hf.Close()
		if err != nil {
			return s, label, err
		}
	case SourceUdmabuf:
		label = "udmabuf"
		if s.Buffer, err = access.AllocUdmabuf(size); err != nil {
			return s, label, err
		}
	case SourceDumb:
		label = "dumb buffer"
		s.dumb, err = d.CreateDumb(w, h, bpp*8)
		if err != nil {
			return s, label, err
		}
		if s.Buffer, err = s.dumb.Buffer(); err != nil {
			return s, label, err
		}
		s.Pitch = int(s.dumb.Pitch)
		if s.FB, err = d.AddFB(w, h, f, s.dumb.Handle, s.dumb.Pitch, 0, ModifierInvalid); err != nil {
			return s, label, err
		}
		s.Path = fmt.Sprintf("dumb buffer of %s (pitch %d)", d.name(), s.Pitch)
		return s, label, nil
	}
	if !s.Buffer.IsDmaBuf() {
		return s, label, fmt.Errorf("%s is not a dma-buf", s.Buffer.Origin())
	}
	s.Pitch = pitch
	if s.gem, err = d.ImportDmaBuf(s.Buffer.Fd()); err != nil {
		if r := d.importRefused(err); r != nil {
			return s, label, r
		}
		return s, label, err
	}
	if s.FB, err = d.AddFB(w, h, f, s.gem.Handle(), uint32(pitch), 0, ModifierInvalid); err != nil {
		return s, label, err
	}
	s.Path = s.Buffer.Origin() + ", imported via PRIME"
	return s, label, nil
}

// Close removes the framebuffer, closes the imported GEM handle and closes
// the buffer (destroying a dumb buffer). Calling it again does nothing.
func (s *Scanout) Close() error { return s.release(false) }

// CloseRetained is Close with the framebuffer closed by FB.CloseRetained
// (CLOSEFB) instead of removed, so a plane showing it keeps showing it after this process lets
// go (the framebuffer holds its own reference to the buffer, which outlives
// the handle and the buffer released here). On kernels before 6.8 the
// framebuffer is left to the device file (which removes it when closed)
// and the error matches ErrNotSupported; the rest is released either way.
func (s *Scanout) CloseRetained() error { return s.release(true) }

func (s *Scanout) release(retain bool) error {
	if s == nil || s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.FB != nil {
		if retain {
			errs = append(errs, s.FB.CloseRetained())
		} else {
			errs = append(errs, s.FB.Close())
		}
	}
	errs = append(errs, s.gem.Close())
	if s.Buffer != nil {
		errs = append(errs, s.Buffer.Close())
	} else if s.dumb != nil {
		errs = append(errs, s.dumb.Close())
	}
	return errors.Join(errs...)
}

// importRefused is ImportDmaBuf's err as a *refusedError when the driver
// refused the dma-buf as one it cannot import, else nil.
func (d *Device) importRefused(err error) error {
	var e *kerror.Error
	if errors.As(err, &e) && errors.Is(err, ErrImportUnsupported) {
		return &refusedError{driver: d.name(), err: e.Err}
	}
	return nil
}

// refusedError is a path's import refused by the driver: "import refused
// by bochs: invalid argument". It matches the errno and
// ErrImportUnsupported.
type refusedError struct {
	driver string
	err    error
}

func (e *refusedError) Error() string   { return "import refused by " + e.driver + ": " + e.err.Error() }
func (e *refusedError) Unwrap() []error { return []error{e.err, ErrImportUnsupported} }
