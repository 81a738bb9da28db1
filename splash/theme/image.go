package theme

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"runtime"
	"sort"
	"sync"

	"golang.org/x/image/bmp"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/sysmem"
)

// ImageError is an image a theme names that cannot be used: missing,
// not PNG, JPEG or BMP, over the pixel budget, or corrupt.
type ImageError struct {
	// Name is the image's path as the theme gives it.
	Name string
	Err  error
}

// Error reads "logo.png: ...".
func (e *ImageError) Error() string { return e.Name + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ImageError) Unwrap() error { return e.Err }

// ErrImageBudget is what an ImageError wraps when an image has more
// pixels than Options.MaxImagePixels allows.
var ErrImageBudget = fmt.Errorf("image over the pixel budget")

// imageFormat is one decoder, chosen by the file's first bytes rather than
// through image.RegisterFormat's package-level table.
type imageFormat struct {
	name   string
	magic  string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var imageFormats = [...]imageFormat{
	{"PNG", "\x89PNG\r\n\x1a\n", png.DecodeConfig, png.Decode},
	{"JPEG", "\xff\xd8", jpeg.DecodeConfig, jpeg.Decode},
	{"BMP", "BM", bmp.DecodeConfig, bmp.Decode},
}

// themeImage is one image file of a theme: its header, then (once drawn)
// its pixels, and the sprites made from it per size and format.
type themeImage struct {
	cfg     image.Config
	format  *imageFormat
	img     image.Image
	sprites map[spriteKey]*fbemu.Sprite
}

type spriteKey struct {
	full   image.Point     // the whole image's scaled size
	crop   image.Rectangle // the part of it kept
	format fbemu.Format
}

// sniff picks the decoder for the data behind br.
func sniff(br *bufio.Reader) (*imageFormat, error) {
	head, _ := br.Peek(8)
	for i := range imageFormats {
		if bytes.HasPrefix(head, []byte(imageFormats[i].magic)) {
			return &imageFormats[i], nil
		}
	}
	return nil, fmt.Errorf("not a PNG, JPEG or BMP image")
}

// imageInfo reads an image's header and checks it against the budget,
// without decoding its pixels.
func (t *Theme) imageInfo(name string) (*themeImage, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.imageInfoLocked(name)
}

func (t *Theme) imageInfoLocked(name string) (*themeImage, error) {
	if ti := t.images[name]; ti != nil {
		return ti, nil
	}
	f, br, format, err := t.openImage(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := format.config(br)
	if err != nil {
		return nil, &ImageError{Name: name, Err: corrupt("header", format, err)}
	}
	if err := checkBudget(cfg, t.budget); err != nil {
		return nil, &ImageError{Name: name, Err: err}
	}
	ti := &themeImage{cfg: cfg, format: format, sprites: make(map[spriteKey]*fbemu.Sprite)}
	t.images[name] = ti
	return ti, nil
}

// openImage opens a theme image and tells its format from its first bytes.
// The caller closes f; br reads the file from its start.
func (t *Theme) openImage(name string) (f io.ReadCloser, br *bufio.Reader, format *imageFormat, err error) {
	file, err := t.openFile(name, MaxImageBytes, "image")
	if err != nil {
		return nil, nil, nil, &ImageError{Name: name, Err: err}
	}
	br = bufio.NewReader(file)
	if format, err = sniff(br); err != nil {
		file.Close()
		return nil, nil, nil, &ImageError{Name: name, Err: err}
	}
	return file, br, format, nil
}

// checkBudget refuses, from the header alone, empty images, images over
// budget pixels or with a side over fbemu.MaxSide, and images whose
// decoded pixels need more memory than the machine has: a small file
// that claims to be enormous (a decompression bomb) is refused before
// anything is allocated for it.
func checkBudget(cfg image.Config, budget int) error {
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return fmt.Errorf("empty image (%dx%d)", w, h)
	}
	// In 64 bits: on a 32-bit machine w*h of two sides under the budget
	// can wrap around to a small number.
	if w > int64(budget) || h > int64(budget) || w*h > int64(budget) {
		return fmt.Errorf("%dx%d is %d pixels: %w of %d pixels", w, h, w*h, ErrImageBudget, budget)
	}
	if w > fbemu.MaxSide || h > fbemu.MaxSide {
		return fmt.Errorf("%dx%d: %w: each side must be at most %d pixels", w, h, ErrImageBudget, fbemu.MaxSide)
	}
	if err := sysmem.Check(uint64(w) * uint64(h) * uint64(decodedBytesPerPixel(cfg.ColorModel))); err != nil {
		return fmt.Errorf("%dx%d decoded %w", w, h, err)
	}
	return nil
}

// decodedBytesPerPixel is what the decoders keep per pixel of an image
// of colour model m.
func decodedBytesPerPixel(m color.Model) int {
	switch m {
	case color.RGBA64Model, color.NRGBA64Model:
		return 8
	case color.Gray16Model:
		return 2
	case color.GrayModel, color.AlphaModel:
		return 1
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 4
}

// corrupt describes a decoder's error, saying when the file ends early.
func corrupt(what string, format *imageFormat, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("truncated %s %s (%w)", format.name, what, err)
	}
	return fmt.Errorf("corrupt %s %s: %w", format.name, what, err)
}

// decoded returns the image's pixels, decoding the file the first time.
// The header is checked against the budget before anything is decoded.
func (t *Theme) decoded(name string) (*themeImage, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.decodedLocked(name)
}

func (t *Theme) decodedLocked(name string) (*themeImage, error) {
	ti, err := t.imageInfoLocked(name)
	if err != nil {
		return nil, err
	}
	if ti.img != nil {
		return ti, nil
	}
	img, err := t.decodeFile(name, ti)
	if err != nil {
		return nil, err
	}
	ti.img = img
	return ti, nil
}

// decodeFile reads and decodes the file of the image ti, whose header was
// read before. It changes nothing in t, so that a theme being loaded can
// decode several images at once.
func (t *Theme) decodeFile(name string, ti *themeImage) (image.Image, error) {
	f, br, format, err := t.openImage(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if format != ti.format {
		return nil, &ImageError{Name: name, Err: fmt.Errorf("changed from %s to %s while loading", ti.format.name, format.name)}
	}
	// Read the header again, as the decoder will, and check it against
	// the budget: the file may have changed since it was first looked at,
	// and nothing may be allocated for a header over budget.
	var head bytes.Buffer
	cfg, err := format.config(io.TeeReader(br, &head))
	if err != nil {
		return nil, &ImageError{Name: name, Err: corrupt("header", format, err)}
	}
	if err := checkBudget(cfg, t.budget); err != nil {
		return nil, &ImageError{Name: name, Err: err}
	}
	img, err := format.decode(io.MultiReader(&head, br))
	if err != nil {
		return nil, &ImageError{Name: name, Err: corrupt("image", format, err)}
	}
	if b := img.Bounds(); b.Dx() != ti.cfg.Width || b.Dy() != ti.cfg.Height {
		return nil, &ImageError{Name: name, Err: fmt.Errorf("decoded %dx%d, header said %dx%d", b.Dx(), b.Dy(), ti.cfg.Width, ti.cfg.Height)}
	}
	return img, nil
}

// ErrBudget is what an error wraps when the images of a theme
// together have more pixels than Options.MaxThemePixels allows.
var ErrBudget = errors.New("over the theme's pixel budget")

// decodeImages decodes every image the theme names, the first frame's
// (background, logo) first and the others beside them, GOMAXPROCS at a
// time, after checking their pixels together against the theme's budget.
// A theme is refused for any image that does not decode: found at load,
// not when the image is first drawn. Called while the theme is made, so
// nothing else uses it yet. Errors are Errors in line order.
func (t *Theme) decodeImages(refs []fileRef) Errors {
	var names []string
	seen := map[string]bool{}
	var total int64
	var bytes uint64
	var errs Errors
	for _, r := range refs {
		if r.font || seen[r.name] {
			continue
		}
		seen[r.name] = true
		ti := t.images[r.name]
		if ti == nil {
			continue // its header failed: already reported
		}
		total += int64(ti.cfg.Width) * int64(ti.cfg.Height)
		bytes += uint64(ti.cfg.Width) * uint64(ti.cfg.Height) * uint64(decodedBytesPerPixel(ti.cfg.ColorModel))
		if total > int64(t.themeBudget) {
			errs = append(errs, t.placed(r.name, &ImageError{Name: r.name, Err: fmt.Errorf(
				"%w: the theme's images come to %d pixels with this one, over its budget of %d (MaxThemePixels; twice one image's budget unless set)",
				ErrBudget, total, t.themeBudget)}))
			return errs
		}
		names = append(names, r.name)
	}
	if err := sysmem.Check(bytes); err != nil {
		return Errors{{File: t.fileName(), Err: fmt.Errorf("the theme's images, %d pixels decoded, %w", total, err)}}
	}
	imgs := make([]image.Image, len(names))
	ierrs := make([]error, len(names))
	sem := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))
	var wg sync.WaitGroup
	for i, n := range names {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			imgs[i], ierrs[i] = t.decodeFile(n, t.images[n])
		}()
	}
	wg.Wait()
	for i, n := range names {
		if ierrs[i] != nil {
			errs = append(errs, t.placed(n, ierrs[i]))
			continue
		}
		t.images[n].img = imgs[i]
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

// sprite returns the image scaled to w x h and converted to format f,
// converting once per size and format: a theme shown on several outputs
// at one scale converts each image once.
func (t *Theme) Sprite(name string, w, h int, f fbemu.Format) (*fbemu.Sprite, error) {
	return t.CroppedSprite(name, image.Pt(w, h), image.Rect(0, 0, w, h), f)
}

// CroppedSprite returns the part crop of the image scaled to full,
// converted to format f. Only the source pixels under crop are resampled.
// Errors are Errors naming the key that names the image.
func (t *Theme) CroppedSprite(name string, full image.Point, crop image.Rectangle, f fbemu.Format) (*fbemu.Sprite, error) {
	sp, err := t.cropSprite(name, full, crop, f)
	return sp, t.placedErr(name, err)
}

func (t *Theme) cropSprite(name string, full image.Point, crop image.Rectangle, f fbemu.Format) (*fbemu.Sprite, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	ti, err := t.decodedLocked(name)
	if err != nil {
		return nil, err
	}
	k := spriteKey{full, crop, f}
	if sp := ti.sprites[k]; sp != nil {
		return sp, nil
	}
	src := ti.img
	b := src.Bounds()
	if crop != image.Rect(0, 0, full.X, full.Y) {
		kx, ky := float64(b.Dx())/float64(full.X), float64(b.Dy())/float64(full.Y)
		sr := image.Rect(int(float64(crop.Min.X)*kx), int(float64(crop.Min.Y)*ky),
			int(math.Ceil(float64(crop.Max.X)*kx)), int(math.Ceil(float64(crop.Max.Y)*ky))).Add(b.Min).Intersect(b)
		if sub, ok := src.(interface {
			SubImage(image.Rectangle) image.Image
		}); ok && !sr.Empty() {
			src = sub.SubImage(sr)
		}
	}
	var sp *fbemu.Sprite
	if sb := src.Bounds(); sb.Dx() == crop.Dx() && sb.Dy() == crop.Dy() {
		sp = fbemu.NewSprite(src, f)
	} else {
		sp = fbemu.NewSprite(resample(src, crop.Dx(), crop.Dy()), f)
	}
	ti.sprites[k] = sp
	return sp, nil
}

// ImageSize returns the size of a theme image from its header.
func (t *Theme) ImageSize(name string) (image.Point, error) {
	ti, err := t.imageInfo(name)
	if err != nil {
		return image.Point{}, t.placed(name, err)
	}
	return image.Pt(ti.cfg.Width, ti.cfg.Height), nil
}

// Scaled returns, for every image of the theme, the sizes of the scaled
// copies it keeps (one per size and pixel format drawn): what the theme
// holds in memory beside the decoded images.
func (t *Theme) Scaled() map[string][]image.Point {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string][]image.Point, len(t.images))
	for name, ti := range t.images {
		sizes := make([]image.Point, 0, len(ti.sprites))
		for k := range ti.sprites {
			sizes = append(sizes, k.crop.Size())
		}
		out[name] = sizes
	}
	return out
}
