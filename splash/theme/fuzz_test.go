package theme

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/bootsplash/bootsplash/fbemu"
)

// fuzzBudget is the pixel budget FuzzImage loads images with.
const fuzzBudget = 64 * 64

// imageSeeds are small images of every format and kind the loader reads,
// and headers that claim far more pixels than they hold.
func imageSeeds(f *testing.F) [][]byte {
	rgba := image.NewNRGBA(image.Rect(0, 0, 8, 6))
	for i := range rgba.Pix {
		rgba.Pix[i] = byte(i * 7)
	}
	gray := image.NewGray(image.Rect(0, 0, 5, 3))
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White, color.RGBA{200, 0, 0, 255}})
	big := image.NewGray(image.Rect(0, 0, 65, 64)) // one column over the budget
	var out [][]byte
	enc := func(e func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := e(&b); err != nil {
			f.Fatal(err)
		}
		return b.Bytes()
	}
	for _, img := range []image.Image{rgba, gray, pal, big} {
		out = append(out,
			enc(func(b *bytes.Buffer) error { return png.Encode(b, img) }),
			enc(func(b *bytes.Buffer) error { return jpeg.Encode(b, img, &jpeg.Options{Quality: 50}) }),
			enc(func(b *bytes.Buffer) error { return bmp.Encode(b, img) }))
	}
	// A PNG header of 60000x60000 with no pixels: a loader that trusted
	// it would allocate 14 GB.
	p := bytes.Clone(out[0])
	binary.BigEndian.PutUint32(p[16:], 60000)
	binary.BigEndian.PutUint32(p[20:], 60000)
	binary.BigEndian.PutUint32(p[29:], crc32IEEE(p[12:29]))
	// A JPEG whose frame header claims 65535x65535.
	j := bytes.Clone(out[1])
	if i := bytes.Index(j, []byte{0xff, 0xc0}); i >= 0 {
		binary.BigEndian.PutUint16(j[i+5:], 0xffff)
		binary.BigEndian.PutUint16(j[i+7:], 0xffff)
	}
	// A BMP claiming 2^31-1 x 2^31-1, and one with a negative (top-down)
	// height.
	b := bytes.Clone(out[2])
	binary.LittleEndian.PutUint32(b[18:], 0x7fffffff)
	binary.LittleEndian.PutUint32(b[22:], 0x7fffffff)
	td := bytes.Clone(out[2])
	binary.LittleEndian.PutUint32(td[22:], uint32(0xffffffff-5))
	return append(out, p, j, b, td, []byte("\x89PNG\r\n\x1a\n"), []byte("\xff\xd8"), []byte("BM"), []byte("GIF89a"))
}

// FuzzImage loads arbitrary bytes as a theme's logo, with a budget of
// 64x64 pixels. An image whose header claims more is refused with
// ErrImageBudget before anything is decoded; what is refused otherwise is
// an ImageError naming the file; what is accepted decodes to the size its
// header gave, and decoding it never allocates more than the budget's
// pixels could need (plus the decoders' fixed buffers).
func FuzzImage(f *testing.F) {
	for _, b := range imageSeeds(f) {
		f.Add(b)
	}
	dir := f.TempDir()
	theme := []byte("[logo]\nimage = \"img\"\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "img"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		// What the header claims, read the way each format's own
		// decoder reads it.
		var claimed image.Config
		var cerr error = errors.New("unknown format")
		for _, ff := range imageFormats {
			if bytes.HasPrefix(data, []byte(ff.magic)) {
				claimed, cerr = ff.config(bytes.NewReader(data))
				break
			}
		}
		overBudget := cerr == nil && int64(claimed.Width)*int64(claimed.Height) > fuzzBudget

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		th, err := Parse("t.toml", theme, dir, Options{MaxImagePixels: fuzzBudget})
		var ti *themeImage
		if err == nil {
			ti, err = th.decoded("img")
		}
		runtime.ReadMemStats(&after)
		// Generous: 8 bytes a pixel twice over (the decoded image and a
		// conversion), and 4 MB for the decoders' tables and buffers.
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 2*8*fuzzBudget+4<<20 {
			t.Fatalf("loading a %d-byte image (header %dx%d, %v) allocated %d bytes", len(data), claimed.Width, claimed.Height, cerr, grew)
		}
		if err != nil {
			var ie *ImageError
			if !errors.As(err, &ie) || ie.Name != "img" {
				t.Fatalf("error %v does not name the image", err)
			}
			if overBudget && !errors.Is(err, ErrImageBudget) {
				t.Fatalf("header %dx%d is over the budget of %d, yet: %v", claimed.Width, claimed.Height, fuzzBudget, err)
			}
			return
		}
		if overBudget || cerr != nil {
			t.Fatalf("accepted an image whose header is %dx%d (%v), budget %d", claimed.Width, claimed.Height, cerr, fuzzBudget)
		}
		b := ti.img.Bounds()
		if b.Dx() != claimed.Width || b.Dy() != claimed.Height || b.Dx()*b.Dy() > fuzzBudget {
			t.Fatalf("decoded %v, header %dx%d, budget %d", b, claimed.Width, claimed.Height, fuzzBudget)
		}
		// It scales and converts to a framebuffer format, as drawing
		// the logo does.
		if _, err := th.Sprite("img", 24, 16, fbemu.XRGB8888); err != nil {
			t.Fatalf("Sprite: %v", err)
		}
	})
}
