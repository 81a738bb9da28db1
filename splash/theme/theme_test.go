package theme

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// Mistakes in a theme file are reported with the file, the line and the
// key, every one of them.
func TestThemeErrors(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string
	}{
		{"unknown key", "[progress]\nheight = 4\ncolour = \"#fff\"\n",
			[]string{"t.toml:3: progress.colour: unknown key"}},
		{"unknown section", "[logo]\nanchor = \"top\"\n\n[banner]\ntext = \"hi\"\n",
			[]string{"t.toml:4: banner: unknown key"}},
		{"bad colour", "[background]\ncolor = \"#12345g\"\n",
			[]string{`t.toml:2: background.color: bad colour "#12345g" (want #rgb, #rrggbb or #rrggbbaa)`}},
		{"colour without hash", "[message]\ncolor = \"white\"\n",
			[]string{`t.toml:2: message.color: bad colour "white"`}},
		{"out of range", "[logo]\nanchor = \"top\"\ny = 1.5\n",
			[]string{"t.toml:3: logo.y: 1.5 is out of range [0, 1]"}},
		{"negative size", "[message]\nsize = -3\n",
			[]string{"t.toml:2: message.size: -3 is out of range"}},
		{"fps", "[spinner]\nfps = 1000\n",
			[]string{"t.toml:2: spinner.fps: 1000 is out of range [1, 120]"}},
		{"bad anchor", "[progress]\nanchor = \"middle\"\n",
			[]string{`t.toml:2: progress.anchor: "middle" is not one of center, top`}},
		{"below itself", "[logo]\nbelow = \"progress\"\n",
			[]string{"t.toml:2: logo.below: this element cannot be placed below another"}},
		{"offset", "[logo]\noffset = [1, 2, 3]\n",
			[]string{"t.toml:2: logo.offset: want [x, y], got 3 numbers"}},
		{"missing image", "# a comment\n[logo]\nimage = \"nope.png\"\n",
			[]string{"t.toml:3: logo.image: nope.png: no such file or directory"}},
		{"missing font", "[message]\nfont = \"nope.ttf\"\n",
			[]string{"t.toml:2: message.font: nope.ttf: no such file or directory"}},
		{"missing frames", "[spinner]\nframes = \"spin-*.png\"\n",
			[]string{"t.toml:2: spinner.frames: spin-*.png: no such files"}},
		{"wrong type", "[progress]\nheight = \"big\"\n",
			[]string{"t.toml:2: progress.height:"}},
		{"syntax", "[progress]\nheight = = 4\n",
			[]string{"t.toml:2:"}},
		{"half a gradient", "[background]\ntop = \"#000\"\n",
			[]string{"t.toml:2: background.top: a gradient needs both top and bottom"}},
		{"override resolution", "[override.big.logo]\ny = 0.5\n",
			[]string{`t.toml:1: override.big: override "big": want a resolution WIDTHxHEIGHT`}},
		{"override value", "[progress]\nheight = 4\n\n[override.\"480x272\".progress]\nheight = 0\n",
			[]string{"t.toml:5: override.480x272.progress.height: 0 is out of range [1, 1000]"}},
		{"several", "[progress]\ncolor = \"red\"\nwidth = 2\n",
			[]string{"t.toml:2: progress.color: bad colour", "t.toml:3: progress.width: 2 is out of range"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := testutil.WriteTheme(t, c.text, nil)
			_, err := Load(path, Options{})
			if err == nil {
				t.Fatal("loaded")
			}
			msg := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), "")
			lines := strings.Split(msg, "\n")
			if len(lines) != len(c.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(lines), len(c.want), msg)
			}
			for i, w := range c.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, lines[i], w)
				}
			}
			var te *Error
			if !errors.As(err, &te) || te.File != path {
				t.Errorf("not an Error naming %s: %#v", path, err)
			}
		})
	}
}

// Paths in a theme are relative to the theme file, whatever the working
// directory.
func TestThemePathsRelative(t *testing.T) {
	path := testutil.WriteTheme(t, "[logo]\nimage = \"l.png\"\n", map[string][]byte{"l.png": testutil.WhitePNG(t, 10, 6)})
	th, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Check(); err != nil {
		t.Fatal(err)
	}
	if sz, err := th.ImageSize("l.png"); err != nil || sz != image.Pt(10, 6) {
		t.Errorf("l.png is %v, %v", sz, err)
	}
}

// An image over the pixel budget is refused by its header, before any
// pixel is decoded, with an error naming the file.
func TestImageBudget(t *testing.T) {
	path := testutil.WriteTheme(t, "[logo]\nimage = \"big.png\"\n", map[string][]byte{"big.png": testutil.WhitePNG(t, 64, 64)})
	if _, err := Load(path, Options{MaxImagePixels: 64 * 64}); err != nil {
		t.Fatalf("an image at the budget: %v", err)
	}
	_, err := Load(path, Options{MaxImagePixels: 1000})
	if !errors.Is(err, ErrImageBudget) {
		t.Fatalf("err = %v, want ErrImageBudget", err)
	}
	if !strings.Contains(err.Error(), "t.toml:2: logo.image: big.png: 64x64 is 4096 pixels: image over the pixel budget of 1000 pixels") {
		t.Errorf("message: %v", err)
	}
}

// hugePNG is a valid PNG header for a w x h image with no pixel data: a
// decoder that trusted it would allocate w*h*4 bytes.
func hugePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	small := testutil.WhitePNG(t, 1, 1)
	// Patch IHDR's width and height (bytes 16..24), then its CRC.
	b := append([]byte(nil), small...)
	put := func(o int, v uint32) { b[o], b[o+1], b[o+2], b[o+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v) }
	put(16, uint32(w))
	put(20, uint32(h))
	put(29, crc32IEEE(b[12:29]))
	return b
}

func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc ^= uint32(c)
		for k := 0; k < 8; k++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xedb88320
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

func TestImageBudgetAllocatesNothingBig(t *testing.T) {
	path := testutil.WriteTheme(t, "[logo]\nimage = \"huge.png\"\n", map[string][]byte{"huge.png": hugePNG(t, 60000, 60000)})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Load(path, Options{})
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrImageBudget) || !strings.Contains(err.Error(), "huge.png: 60000x60000") {
		t.Fatalf("err = %v, want the budget refusal naming huge.png", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("refusing the image allocated %d bytes", grew)
	}
}

// A corrupt image whose header is fine is refused when the theme is
// loaded, with the file, line and key that name it; it used to load and
// be left out of the frame when drawn.
func TestCorruptImage(t *testing.T) {
	data := testutil.WhitePNG(t, 32, 32)
	// Damage the compressed pixel data (IDAT), keep the header.
	i := bytes.Index(data, []byte("IDAT"))
	for j := i + 6; j < i+20 && j < len(data)-12; j++ {
		data[j] ^= 0x5a
	}
	path := testutil.WriteTheme(t, "[background]\ncolor = \"#204060\"\n[logo]\nimage = \"bad.png\"\n", map[string][]byte{"bad.png": data})
	_, err := Load(path, Options{})
	var ie *ImageError
	if !errors.As(err, &ie) || ie.Name != "bad.png" || !strings.HasPrefix(err.Error(), path+":4: logo.image: bad.png: corrupt PNG image") {
		t.Fatalf("Load: %v", err)
	}
}

func TestNotAnImage(t *testing.T) {
	path := testutil.WriteTheme(t, "[logo]\nimage = \"l.gif\"\n", map[string][]byte{"l.gif": []byte("GIF89a....")})
	_, err := Load(path, Options{})
	if err == nil || !strings.Contains(err.Error(), "t.toml:2: logo.image: l.gif: not a PNG, JPEG or BMP image") {
		t.Errorf("err = %v", err)
	}
}

func TestParseColor(t *testing.T) {
	for in, want := range map[string]color.RGBA{
		"#fff":      {0xff, 0xff, 0xff, 0xff},
		"#102030":   {0x10, 0x20, 0x30, 0xff},
		"#ff000080": {0x80, 0, 0, 0x80}, // premultiplied
		"#00000000": {},
	} {
		if got, err := ParseColor(in); err != nil || got != want {
			t.Errorf("ParseColor(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "fff", "#ff", "#fffff", "#gggggg", "#1234567"} {
		if _, err := ParseColor(bad); err == nil {
			t.Errorf("ParseColor(%q) accepted", bad)
		}
	}
}

// A resolution override replaces the keys it names and keeps the others.
func TestOverride(t *testing.T) {
	path := testutil.WriteTheme(t, `
[progress]
y = 0.5
height = 10
color = "#ff0000"

[override."320x240".progress]
height = 4
`, nil)
	th, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	small, big := th.Resolve(320, 240).Progress, th.Resolve(640, 480).Progress
	if *small.Height != 4 || *big.Height != 10 {
		t.Errorf("height: %v at 320x240, %v at 640x480", *small.Height, *big.Height)
	}
	if *small.Color != "#ff0000" || *small.Y != 0.5 {
		t.Errorf("the override lost the base keys: %+v", small)
	}
	if *th.base.Progress.Height != 10 {
		t.Error("resolving an override changed the base theme")
	}
}

// The test theme in testdata loads and every file it names decodes.
func TestTestThemeChecks(t *testing.T) {
	th, err := Load(testTheme, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Check(); err != nil {
		t.Fatal(err)
	}
	if th, err = Default(); err != nil {
		t.Fatal(err)
	}
	if err := th.Check(); err != nil {
		t.Fatal(err)
	}
}

// Loading a theme decodes every image it names (so a broken one refuses
// the theme), and parses no font.
func TestLoadDecodesImages(t *testing.T) {
	th, err := Load(testTheme, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(th.images) != 10 {
		t.Errorf("%d images known, want 10 (background, logo, 8 spinner frames)", len(th.images))
	}
	for name, im := range th.images {
		if im.img == nil {
			t.Errorf("%s not decoded", name)
		}
	}
	if len(th.fonts) != 0 {
		t.Error("a font was parsed")
	}
}
