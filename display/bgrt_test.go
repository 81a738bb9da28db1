package display

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
)

// bgrtDir writes a BGRT directory as the kernel publishes it, with img
// as the image file.
func bgrtDir(t *testing.T, img []byte, status, xoff, yoff string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{"type": "0\n", "status": status, "xoffset": xoff, "yoffset": yoff, "version": "1\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "image"), img, 0o444); err != nil {
		t.Fatal(err)
	}
	return dir
}

func logoBMP(t *testing.T, w, h int) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	m.Set(1, 2, color.RGBA{R: 0xff, A: 0xff})
	var b bytes.Buffer
	if err := bmp.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestReadFirmwareLogo(t *testing.T) {
	dir := bgrtDir(t, logoBMP(t, 40, 30), "3\n", "620\n", "245\n")
	l, err := ReadFirmwareLogo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Offset != image.Pt(620, 245) || !l.Displayed || l.Orientation != 90 || l.Image.Bounds().Size() != image.Pt(40, 30) {
		t.Errorf("logo %+v (%v)", l, l.Image.Bounds())
	}
	if r, g, _, _ := l.Image.At(1, 2).RGBA(); r != 0xffff || g != 0 {
		t.Errorf("pixel (1,2) = %v", l.Image.At(1, 2))
	}
}

// TestReadFirmwareLogoRefuses: no BGRT, a corrupt or truncated image, an
// image over the pixel limit, a number that is not one, an image type
// that is not a bitmap: each an error naming the file.
func TestReadFirmwareLogoRefuses(t *testing.T) {
	good := logoBMP(t, 40, 30)
	huge := append([]byte(nil), good...)
	// The header's width and height (offsets 18 and 22) say 8192x8192.
	copy(huge[18:], []byte{0, 0x20, 0, 0, 0, 0x20, 0, 0})
	if _, err := ReadFirmwareLogo(filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no BGRT: %v, want os.ErrNotExist", err)
	}
	for _, c := range []struct {
		name string
		dir  string
		want string
	}{
		{"corrupt", bgrtDir(t, []byte("BM not really a bitmap"), "1", "0", "0"), "image: not a BMP the splash can read"},
		{"truncated", bgrtDir(t, good[:len(good)/2], "1", "0", "0"), "image: corrupt BMP"},
		{"oversized", bgrtDir(t, huge, "1", "0", "0"), "image: 8192x8192 is over the limit of 16777216 pixels"},
		{"bad offset", bgrtDir(t, good, "1", "left", "0"), `xoffset: "left" is not a number`},
		{"negative offset", bgrtDir(t, good, "1", "0", "-5"), `yoffset: "-5" is not a number`},
	} {
		_, err := ReadFirmwareLogo(c.dir)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.dir) {
			t.Errorf("%s: %v, want an error naming the file and saying %q", c.name, err, c.want)
		}
	}
	// A file over the byte cap is refused before it is decoded.
	dir := bgrtDir(t, good, "1", "0", "0")
	big := filepath.Join(dir, "image")
	os.Chmod(big, 0o644)
	if err := os.Truncate(big, MaxLogoBytes+1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFirmwareLogo(dir); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("image: %d bytes, over the limit of", MaxLogoBytes+1)) {
		t.Errorf("a file over the cap: %v", err)
	}
	// A file whose size is a page, as a sysfs text attribute's is
	// whatever it holds, is read up to the cap and refused there.
	dir = bgrtDir(t, good, "1", "0", "0")
	os.Remove(filepath.Join(dir, "status"))
	os.WriteFile(filepath.Join(dir, "status"), bytes.Repeat([]byte("1"), os.Getpagesize()), 0o444)
	if _, err := ReadFirmwareLogo(dir); err == nil || !strings.Contains(err.Error(), "status: over the limit of 64 bytes") {
		t.Errorf("a page over the cap: %v", err)
	}
	dir = bgrtDir(t, good, "1", "0", "0")
	os.WriteFile(filepath.Join(dir, "type"), []byte("1\n"), 0o444)
	if _, err := ReadFirmwareLogo(dir); err == nil || !strings.Contains(err.Error(), "image type 1 is not a bitmap") {
		t.Errorf("type 1: %v", err)
	}
	// A FIFO where the image should be is refused, not waited on.
	dir = bgrtDir(t, good, "1", "0", "0")
	os.Remove(filepath.Join(dir, "image"))
	if err := mkfifo(filepath.Join(dir, "image")); err != nil {
		t.Skip(err)
	}
	if _, err := ReadFirmwareLogo(dir); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Errorf("FIFO: %v", err)
	}
}

// TestFirmwareLogoPlaceCentred: a firmware that centred its logo in both
// directions (OVMF does) keeps it there on a screen of the same size whose
// mode the splash does not know, as Plymouth does; another firmware's
// horizontal offset that does not centre the logo is not trusted.
func TestFirmwareLogoPlaceCentred(t *testing.T) {
	l := &FirmwareLogo{Image: image.NewRGBA(image.Rect(0, 0, 193, 58)), Offset: image.Pt(543, 371)}
	if r, err := l.Place(image.Point{}, image.Pt(1280, 800)); err != nil || r != image.Rect(543, 371, 736, 429) {
		t.Errorf("centred by the firmware: %v, %v", r, err)
	}
	l.Offset = image.Pt(10, 20)
	if r, err := l.Place(image.Pt(1280, 800), image.Pt(1920, 1080)); err != nil || r != image.Rect(863, 383, 1056, 441) {
		t.Errorf("not centred by the firmware: %v, %v", r, err)
	}
}

func TestFirmwareLogoPlace(t *testing.T) {
	l := &FirmwareLogo{Image: image.NewRGBA(image.Rect(0, 0, 200, 100)), Offset: image.Pt(540, 256)}
	for _, c := range []struct {
		name             string
		firmware, screen image.Point
		want             image.Rectangle
		err              bool
	}{
		{"the firmware's mode", image.Pt(1280, 800), image.Pt(1280, 800), image.Rect(540, 256, 740, 356), false},
		{"another mode: centred, at 38.2%", image.Pt(1280, 800), image.Pt(1920, 1080), image.Rect(860, 362, 1060, 462), false},
		{"smaller than the logo: scaled to fit", image.Pt(1280, 800), image.Pt(100, 600), image.Rect(0, 204, 100, 254), false},
		{"off the firmware's screen", image.Pt(600, 300), image.Pt(600, 300), image.Rectangle{}, true},
		{"the mode not known, the offsets not centring it: at 38.2%", image.Point{}, image.Pt(1280, 800), image.Rect(540, 255, 740, 355), false},
		{"a smaller mode: the panel's offset moved by the difference", image.Pt(1280, 800), image.Pt(1024, 768), image.Rect(412, 244, 612, 344), false},
	} {
		r, err := l.Place(c.firmware, c.screen)
		if (err != nil) != c.err || r != c.want {
			t.Errorf("%s: Place = %v, %v; want %v", c.name, r, err, c.want)
		}
		if c.err && !errors.Is(err, ErrLogoOffScreen) {
			t.Errorf("%s: %v is not ErrLogoOffScreen", c.name, err)
		}
	}
}
