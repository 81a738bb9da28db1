package fbemu

import (
	"fmt"
	"image"
)

// Rotation is how the picture is turned on its way to the panel, in the
// sense of the KMS plane "rotation" property: Rotate90 turns it 90 degrees
// counter-clockwise (DRM_MODE_ROTATE_90).
type Rotation uint8

// The four rotations.
const (
	Rotate0 Rotation = iota
	Rotate90
	Rotate180
	Rotate270
)

// String returns "0", "90", "180" or "270".
func (r Rotation) String() string {
	switch r {
	case Rotate0, Rotate90, Rotate180, Rotate270:
		return fmt.Sprint(int(r) * 90)
	}
	return fmt.Sprintf("Rotation(%d)", uint8(r))
}

// ParseRotation reads "0", "90", "180" or "270".
func ParseRotation(s string) (Rotation, error) {
	for _, r := range []Rotation{Rotate0, Rotate90, Rotate180, Rotate270} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("fbemu: rotation %q: want 0, 90, 180 or 270", s)
}

// Add returns the rotation that applies r and then o.
func (r Rotation) Add(o Rotation) Rotation { return (r + o) % 4 }

// Swaps reports whether r exchanges width and height.
func (r Rotation) Swaps() bool { return r%2 == 1 }

// DRM returns the DRM_MODE_ROTATE_* bit for r.
func (r Rotation) DRM() uint64 { return 1 << (r % 4) }

// PanelRotation returns the rotation that makes a picture upright on a
// panel mounted with the connector's "panel orientation" property value
// ("Normal", "Upside Down", "Left Side Up", "Right Side Up"), as
// drm_fb_helper does for the fbdev console. Unknown values mean Rotate0.
func PanelRotation(orientation string) Rotation {
	switch orientation {
	case "Upside Down":
		return Rotate180
	case "Left Side Up":
		return Rotate90
	case "Right Side Up":
		return Rotate270
	}
	return Rotate0
}

// toPanel maps the logical rectangle lr of a w x h logical picture to the
// buffer the panel scans out.
func (r Rotation) toPanel(lr image.Rectangle, w, h int) image.Rectangle {
	switch r % 4 {
	case Rotate90: // counter-clockwise: (x, y) -> (y, w-1-x)
		return image.Rect(lr.Min.Y, w-lr.Max.X, lr.Max.Y, w-lr.Min.X)
	case Rotate180:
		return image.Rect(w-lr.Max.X, h-lr.Max.Y, w-lr.Min.X, h-lr.Min.Y)
	case Rotate270: // clockwise: (x, y) -> (h-1-y, x)
		return image.Rect(h-lr.Max.Y, lr.Min.X, h-lr.Min.Y, lr.Max.X)
	}
	return lr
}

// rotateCopy copies the logical rectangle lr of src (the upright picture)
// into dst (the panel's buffer, src turned by r). Both have the same format.
func rotateCopy(dst, src *Surface, lr image.Rectangle, r Rotation) {
	lr = lr.Intersect(src.Bounds())
	if lr.Empty() {
		return
	}
	w, h := src.Width(), src.Height()
	if r == Rotate0 {
		for y := lr.Min.Y; y < lr.Max.Y; y++ {
			copy(dst.row(y, lr.Min.X, lr.Max.X), src.row(y, lr.Min.X, lr.Max.X))
		}
		return
	}
	if src.format == RGB565 {
		for y := lr.Min.Y; y < lr.Max.Y; y++ {
			for x := lr.Min.X; x < lr.Max.X; x++ {
				p := r.toPanel(image.Rect(x, y, x+1, y+1), w, h).Min
				dst.setPixel(p.X, p.Y, src.pixel(x, y))
			}
		}
		return
	}
	for y := lr.Min.Y; y < lr.Max.Y; y++ {
		s := words(src.row(y, lr.Min.X, lr.Max.X))
		switch r {
		case Rotate180:
			d := words(dst.row(h-1-y, w-lr.Max.X, w-lr.Min.X))
			n := len(d) - 1
			for i, v := range s {
				d[n-i] = v
			}
		case Rotate90: // (x, y) -> (y, w-1-x): a source row becomes a column, bottom-up
			for i, v := range s {
				x := lr.Min.X + i
				o := (w-1-x)*dst.stride + y*4
				*(*uint32)(ptr(dst.pix, o)) = v
			}
		case Rotate270: // (x, y) -> (h-1-y, x)
			for i, v := range s {
				x := lr.Min.X + i
				o := x*dst.stride + (h-1-y)*4
				*(*uint32)(ptr(dst.pix, o)) = v
			}
		}
	}
}
