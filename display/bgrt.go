package display

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/bmp"
)

// BGRTDir is where the kernel publishes the ACPI Boot Graphics Resource
// Table: the logo the firmware drew at boot and where it drew it.
const BGRTDir = "/sys/firmware/acpi/bgrt"

// The limits a firmware logo is read within, checked before it is
// decoded: the firmware is not trusted more than a theme.
const (
	// MaxLogoBytes caps the image file: a 4096 x 4096 BMP of 32-bit
	// pixels.
	MaxLogoBytes = 4096*4096*4 + 1024
	// MaxLogoPixels caps the decoded image.
	MaxLogoPixels = 4096 * 4096
)

// FirmwareLogo is the logo the firmware showed (ACPI BGRT), as Plymouth's
// themes draw it over the splash's background.
type FirmwareLogo struct {
	// Image is the decoded bitmap.
	Image image.Image
	// Offset is where the firmware drew its top-left corner, in the
	// firmware's mode.
	Offset image.Point
	// Displayed says the firmware says the logo is on screen now (status
	// bit 0).
	Displayed bool
	// Orientation is the rotation the firmware applied, in degrees
	// clockwise (status bits 1-2: 0, 90, 180 or 270).
	Orientation int
}

// ReadFirmwareLogo reads the firmware's logo from dir (BGRTDir when ""). A
// machine without one (no BGRT, a legacy BIOS) gives an error that wraps
// os.ErrNotExist; an image that is not a BMP, is corrupt or is over the
// limits gives an error naming the file.
func ReadFirmwareLogo(dir string) (*FirmwareLogo, error) {
	if dir == "" {
		dir = BGRTDir
	}
	num := func(name string) (int, error) {
		p := filepath.Join(dir, name)
		b, err := readCapped(p, 64)
		if err != nil {
			return 0, fmt.Errorf("firmware logo: %w", err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 0, 64)
		if err != nil || n < 0 || n > 1<<20 {
			return 0, fmt.Errorf("firmware logo: %s: %q is not a number from 0 to %d", p, strings.TrimSpace(string(b)), 1<<20)
		}
		return int(n), nil
	}
	typ, err := num("type")
	if err != nil {
		return nil, err
	}
	if typ != 0 {
		return nil, fmt.Errorf("firmware logo: %s: image type %d is not a bitmap (0)", filepath.Join(dir, "type"), typ)
	}
	var l FirmwareLogo
	status, err := num("status")
	if err != nil {
		return nil, err
	}
	l.Displayed, l.Orientation = status&1 != 0, (status>>1&3)*90
	if l.Offset.X, err = num("xoffset"); err != nil {
		return nil, err
	}
	if l.Offset.Y, err = num("yoffset"); err != nil {
		return nil, err
	}
	p := filepath.Join(dir, "image")
	b, err := readCapped(p, MaxLogoBytes)
	if err != nil {
		return nil, fmt.Errorf("firmware logo: %w", err)
	}
	cfg, err := bmp.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("firmware logo: %s: not a BMP the splash can read: %w", p, err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width*cfg.Height > MaxLogoPixels {
		return nil, fmt.Errorf("firmware logo: %s: %dx%d is over the limit of %d pixels", p, cfg.Width, cfg.Height, MaxLogoPixels)
	}
	if l.Image, err = bmp.Decode(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("firmware logo: %s: corrupt BMP: %w", p, err)
	}
	return &l, nil
}

// readCapped reads the file at p, refusing one over max bytes and
// anything that is not a regular file (sysfs attributes are).
func readCapped(p string, max int64) ([]byte, error) {
	// Looked at before it is opened: opening a FIFO would wait for a
	// writer.
	if st, err := os.Stat(p); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v)", p, st.Mode().Type())
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%v)", p, st.Mode().Type())
	}
	// A file that says it is over the cap is refused before it is read
	// (the BGRT's image is a binary attribute, its size the image's), so
	// a bad one costs no time at boot. sysfs text attributes say a page
	// whatever they hold: the read is what is capped.
	if st.Size() > max && st.Size() != int64(os.Getpagesize()) {
		return nil, fmt.Errorf("%s: %d bytes, over the limit of %d bytes", p, st.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: over the limit of %d bytes", p, max)
	}
	return b, nil
}

// ErrLogoOffScreen says the firmware's logo does not fit the screen.
var ErrLogoOffScreen = errors.New("the firmware logo does not fit the screen")

// Place says where the logo goes on a screen of size screen, the firmware
// having drawn it at its offset in a mode of size firmware (zero when the
// firmware's mode is not known). The rule follows Plymouth's BGRT theme,
// which follows the boot logo guideline of the firmware's makers (centred
// horizontally, its centre at 38.2% of the height, on black):
//
//   - in the firmware's mode, exactly where the firmware drew it, so the
//     splash draws over the firmware's picture without moving a pixel;
//   - in another mode, when the offset centred the logo horizontally in
//     the firmware's mode (a panel brought up at its native size), at the
//     same offset moved by half the difference in width and 38.2% of the
//     difference in height;
//   - when the offset centres the logo on this screen in both directions
//     (firmwares that centre it vertically too), at the offset;
//   - otherwise centred horizontally with its centre at 38.2% of the
//     height.
//
// The logo is drawn at its own size, as the firmware drew it; only a logo
// larger than the screen is scaled down, keeping its aspect, to fit. The
// rectangle's size is the logo's on screen. A logo that does not fit the
// firmware's own mode at its offset is an error (ErrLogoOffScreen): the
// table is wrong.
func (l *FirmwareLogo) Place(firmware, screen image.Point) (image.Rectangle, error) {
	size := l.Image.Bounds().Size()
	if firmware == screen {
		r := image.Rectangle{Min: l.Offset, Max: l.Offset.Add(size)}
		if !r.In(image.Rectangle{Max: screen}) {
			return image.Rectangle{}, fmt.Errorf("%w: %v on %dx%d", ErrLogoOffScreen, r, screen.X, screen.Y)
		}
		return r, nil
	}
	if screen.X < 1 || screen.Y < 1 {
		return image.Rectangle{}, fmt.Errorf("%w: the screen is %dx%d", ErrLogoOffScreen, screen.X, screen.Y)
	}
	w, h := size.X, size.Y
	if w > screen.X {
		w, h = screen.X, max(1, h*screen.X/w)
	}
	if h > screen.Y {
		w, h = max(1, w*screen.Y/h), screen.Y
	}
	x, y := (screen.X-w)/2, screen.Y*382/1000-h/2
	switch {
	case w != size.X || h != size.Y:
		// Scaled: the firmware's offsets are for another size.
	case firmware.X > 0 && (firmware.X-size.X)/2 == l.Offset.X:
		x = l.Offset.X + (screen.X-firmware.X)/2
		y = l.Offset.Y + (screen.Y-firmware.Y)*382/1000
	case (screen.X-size.X)/2 == l.Offset.X && (screen.Y-size.Y)/2 == l.Offset.Y:
		x, y = l.Offset.X, l.Offset.Y
	}
	x = min(max(x, 0), screen.X-w)
	y = min(max(y, 0), screen.Y-h)
	return image.Rect(x, y, x+w, y+h), nil
}
