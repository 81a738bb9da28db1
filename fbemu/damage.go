package fbemu

import "image"

// MaxDamageRects bounds the damage list. When one more rectangle would not
// fit, it is merged with the rectangle whose union grows least, as
// drm_atomic_helper_damage_merged and the fbdev damage worker fold many
// updates into few clips.
const MaxDamageRects = 8

// Damage is a bounded list of changed rectangles, clipped to a bounds.
// Rectangles that overlap or touch are merged when the union wastes no more
// area than they cover; the zero value records nothing until SetBounds.
// It never allocates.
type Damage struct {
	bounds image.Rectangle
	rects  [MaxDamageRects]image.Rectangle
	n      int

	// Pixels written one at a time (Surface.Set, SetRGBA64 from
	// image/draw) gather here before they join rects: blk is a block of
	// whole rows, row the row being filled under it. Every method that
	// reads or adds rectangles folds them in first.
	blk, row image.Rectangle
}

// NewDamage returns an empty damage list clipped to bounds.
func NewDamage(bounds image.Rectangle) *Damage { return &Damage{bounds: bounds} }

// SetBounds sets the clip rectangle and empties the list.
func (d *Damage) SetBounds(b image.Rectangle) {
	d.bounds, d.n, d.blk, d.row = b, 0, image.Rectangle{}, image.Rectangle{}
}

// Bounds returns the clip rectangle.
func (d *Damage) Bounds() image.Rectangle { return d.bounds }

// Reset empties the list.
func (d *Damage) Reset() { d.n, d.blk, d.row = 0, image.Rectangle{}, image.Rectangle{} }

// Empty reports whether nothing was damaged.
func (d *Damage) Empty() bool {
	d.flush()
	return d.n == 0
}

// Rects returns the damaged rectangles. The slice aliases d and is valid
// until the next change.
func (d *Damage) Rects() []image.Rectangle {
	d.flush()
	return d.rects[:d.n]
}

// Extent returns the union of all damaged rectangles.
func (d *Damage) Extent() image.Rectangle {
	d.flush()
	var u image.Rectangle
	for _, r := range d.rects[:d.n] {
		u = u.Union(r)
	}
	return u
}

// Area returns the number of damaged pixels counted per rectangle (an upper
// bound where rectangles overlap).
func (d *Damage) Area() int {
	d.flush()
	a := 0
	for _, r := range d.rects[:d.n] {
		a += area(r)
	}
	return a
}

// AddAll records the whole bounds as damaged.
func (d *Damage) AddAll() { d.Add(d.bounds) }

// AddList records every rectangle of o.
func (d *Damage) AddList(o *Damage) {
	for _, r := range o.Rects() {
		d.Add(r)
	}
}

// Add records r (clipped to the bounds) as damaged.
func (d *Damage) Add(r image.Rectangle) {
	d.flush()
	d.add(r)
}

// addPoint records the pixel (x, y). Pixels that continue the row being
// filled, or start the next row of a block at its left edge, only grow the
// pending rectangles, so a rectangle drawn pixel by pixel in row order
// costs a few comparisons per pixel and ends as the one rectangle Add would
// have recorded for it.
func (d *Damage) addPoint(x, y int) {
	if r := &d.row; y == r.Min.Y && x == r.Max.X && x+1 != d.blk.Max.X && r.Min.X < r.Max.X {
		r.Max.X++ // the common case, inlined into the per-pixel writes
		return
	}
	d.addPointSlow(x, y)
}

func (d *Damage) addPointSlow(x, y int) {
	p := image.Point{x, y}
	switch r := &d.row; {
	case y == r.Min.Y && x == r.Max.X && !r.Empty():
		r.Max.X++
	case p.In(*r) || p.In(d.blk):
		return
	case d.blk.Empty() && !r.Empty() && y == r.Max.Y && x == r.Min.X:
		d.blk, *r = *r, image.Rect(x, y, x+1, y+1)
	case r.Empty() && !d.blk.Empty() && y == d.blk.Max.Y && x == d.blk.Min.X:
		*r = image.Rect(x, y, x+1, y+1)
	default:
		d.flush()
		*r = image.Rect(x, y, x+1, y+1)
		return
	}
	if r := d.row; r.Min.X == d.blk.Min.X && r.Max.X == d.blk.Max.X && r.Min.Y == d.blk.Max.Y && !d.blk.Empty() {
		d.blk.Max.Y++
		d.row = image.Rectangle{}
	}
}

// flush adds the pixels addPoint gathered.
func (d *Damage) flush() {
	if d.blk.Empty() && d.row.Empty() {
		return
	}
	blk, row := d.blk, d.row
	d.blk, d.row = image.Rectangle{}, image.Rectangle{}
	d.add(blk)
	d.add(row)
}

func (d *Damage) add(r image.Rectangle) {
	r = r.Intersect(d.bounds)
	if r.Empty() {
		return
	}
	for {
		merged := false
		for i := 0; i < d.n; i++ {
			o := d.rects[i]
			if r.In(o) {
				return
			}
			u := o.Union(r)
			if r.Overlaps(o) || touches(r, o) {
				if area(u) <= area(o)+area(r)-area(o.Intersect(r)) || o.In(r) {
					d.remove(i)
					r = u
					merged = true
					break
				}
			}
		}
		if !merged {
			break
		}
	}
	if d.n < MaxDamageRects {
		d.rects[d.n] = r
		d.n++
		return
	}
	// Full: fold r into the rectangle whose union grows least, then let the
	// result absorb whatever it now covers.
	best, grow := 0, -1
	for i, o := range d.rects[:d.n] {
		g := area(o.Union(r)) - area(o)
		if grow < 0 || g < grow {
			best, grow = i, g
		}
	}
	u := d.rects[best].Union(r)
	d.remove(best)
	d.add(u)
}

func (d *Damage) remove(i int) {
	copy(d.rects[i:d.n], d.rects[i+1:d.n])
	d.n--
}

// touches reports whether a and b share an edge segment without overlapping.
func touches(a, b image.Rectangle) bool {
	if a.Max.X == b.Min.X || b.Max.X == a.Min.X {
		return a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
	}
	if a.Max.Y == b.Min.Y || b.Max.Y == a.Min.Y {
		return a.Min.X < b.Max.X && b.Min.X < a.Max.X
	}
	return false
}

func area(r image.Rectangle) int { return r.Dx() * r.Dy() }
