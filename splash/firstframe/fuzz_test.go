package firstframe

import (
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
)

// FuzzParseHeader reads frame headers: a frame directory is read at every
// boot, and a damaged file must be refused, never crash the splash or
// send it past the header's bounds. What parses must encode back to the
// same bytes.
func FuzzParseHeader(f *testing.F) {
	for _, k := range []Key{
		{Build: "a/b", Width: 2, Height: 2, Format: fbemu.XRGB8888, Scale: 1},
		{Build: "a/b/c/d", Width: 640, Height: 480, Format: fbemu.RGB565, Scale: 1.5, Theme: "/t/theme.toml",
			Inputs: []Input{{Path: "/t/theme.toml", Size: 10, Sum: 7}, {Path: "/t/s-*.png", Glob: true, Size: 2, Sum: 9}}},
	} {
		b, err := k.header()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			return
		}
		if h.size < fixedHeader || h.size > len(b) || h.size > maxHeader {
			t.Fatalf("header of %d bytes read from %d", h.size, len(b))
		}
		if len(h.build) == 0 || len(h.build) > maxBuildID {
			return // header() refuses to write it
		}
		var f fbemu.Format
		for _, x := range fbemu.Formats() {
			if uint32(x.FourCC()) == h.fourcc {
				f = x
			}
		}
		if !f.Valid() || h.width == 0 || h.height == 0 || h.width > 1<<15 || h.height > 1<<15 ||
			h.stride != h.width*uint32(f.BytesPerPixel()) || h.rotation != 0 {
			return
		}
		k := Key{Build: h.build, Width: int(h.width), Height: int(h.height), Format: f, Scale: h.scale, Theme: h.theme, Inputs: h.inputs}
		again, err := k.header()
		if err != nil {
			t.Fatalf("a header read back does not encode: %v", err)
		}
		if string(again) != string(b[:h.size]) {
			t.Fatalf("header read and written again differs:\n%q\n%q", b[:h.size], again)
		}
	})
}
