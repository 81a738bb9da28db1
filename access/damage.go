package access

// maxDamage bounds the damage a bracket remembers region by region.
const maxDamage = 16

// damageList is a bracket's damage: up to maxDamage regions, kept in place so
// that recording damage never allocates.
type damageList struct {
	r   [maxDamage]Region
	n   int
	all bool
}

func (d *damageList) reset() { d.n, d.all = 0, false }

// normalize makes Rows at least 1 and drops the stride of one-row regions.
// Rows with no stride all cover the same bytes, so they count as one.
func normalize(r Region) Region {
	if r.Rows <= 1 || r.Stride <= 0 {
		r.Rows, r.Stride = 1, 0
	}
	return r
}

// add records r; when the list is full, every region merges into one
// bounding region.
func (d *damageList) add(r Region) {
	if d.all || r.Len <= 0 {
		return
	}
	r = normalize(r)
	if d.n < maxDamage {
		d.r[d.n] = r
		d.n++
		return
	}
	d.r[0] = bound(d.r[:d.n], r)
	d.n = 1
}

// bound returns one region covering rs and extra. If the multi-row regions
// share a stride, the result has that stride and is the bounding rectangle
// (rows and columns) of them all; otherwise it is the linear span from the
// first damaged byte to the last.
func bound(rs []Region, extra Region) Region {
	stride := 0
	same := true
	visit := func(f func(Region)) {
		for _, r := range rs {
			f(r)
		}
		f(extra)
	}
	visit(func(r Region) {
		if r.Rows > 1 {
			if stride == 0 {
				stride = r.Stride
			} else if r.Stride != stride {
				same = false
			}
		}
	})
	if stride == 0 || !same {
		lo, hi := extra.Off, end(extra)
		visit(func(r Region) {
			lo, hi = min(lo, r.Off), max(hi, end(r))
		})
		return Region{Off: lo, Len: hi - lo, Rows: 1}
	}
	r0, r1, c0, c1 := -1, 0, stride, 0
	visit(func(r Region) {
		row, col := floorDiv(r.Off, stride), r.Off-floorDiv(r.Off, stride)*stride
		rows := r.Rows
		cLo, cHi := col, col+r.Len
		if cHi > stride {
			// Rows that run into the next row: bound them as whole rows.
			rows = floorDiv(end(r)-1, stride) - row + 1
			cLo, cHi = 0, stride
		}
		if r0 < 0 || row < r0 {
			r0 = row
		}
		r1 = max(r1, row+rows)
		c0, c1 = min(c0, cLo), max(c1, cHi)
	})
	return Region{Off: r0*stride + c0, Len: c1 - c0, Stride: stride, Rows: r1 - r0}
}

// end is one past the last byte r covers.
func end(r Region) int { return r.Off + (r.Rows-1)*r.Stride + r.Len }

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// copyDamage copies the damaged bytes of src into dst (both of the same
// length) and returns how many bytes it copied. Damage is clipped to the
// buffer; overlapping regions are copied once each.
func (d *damageList) copyDamage(dst, src []byte) int {
	if d.all {
		return copy(dst, src)
	}
	size := len(dst)
	n := 0
	for _, r := range d.r[:d.n] {
		if r.Stride == r.Len && r.Rows > 1 {
			// Whole rows back to back: one copy.
			r = Region{Off: r.Off, Len: r.Len * r.Rows, Rows: 1}
		}
		for i := 0; i < r.Rows; i++ {
			lo := r.Off + i*r.Stride
			hi := lo + r.Len
			lo, hi = max(lo, 0), min(hi, size)
			if lo < hi {
				n += copy(dst[lo:hi], src[lo:hi])
			}
		}
	}
	return n
}

// empty reports whether nothing was damaged.
func (d *damageList) empty() bool { return !d.all && d.n == 0 }
