package access

import "testing"

// covered marks every byte r covers in a buffer of size bytes.
func covered(size int, rs ...Region) []bool {
	out := make([]bool, size)
	for _, r := range rs {
		r = normalize(r)
		for row := 0; row < r.Rows; row++ {
			for i := r.Off + row*r.Stride; i < r.Off+row*r.Stride+r.Len; i++ {
				if i >= 0 && i < size {
					out[i] = true
				}
			}
		}
	}
	return out
}

func TestDamageMergesWhenFull(t *testing.T) {
	const stride, size = 100, 100 * 50
	var d damageList
	var all []Region
	for i := range maxDamage + 1 {
		r := Region{Off: (i+2)*stride + 10 + i, Len: 5, Stride: stride, Rows: 2}
		all = append(all, r)
		d.add(r)
	}
	if d.n != 1 {
		t.Fatalf("%d regions after %d adds, want one merged", d.n, maxDamage+1)
	}
	got := d.r[0]
	// Rows 2..19 (the last region starts on row 18 and has 2 rows), columns
	// 10..(10+16+5).
	want := Region{Off: 2*stride + 10, Len: 16 + 5, Stride: stride, Rows: 18}
	if got != want {
		t.Errorf("merged to %+v, want %+v", got, want)
	}
	in, bounded := covered(size, all...), covered(size, got)
	for i := range in {
		if in[i] && !bounded[i] {
			t.Fatalf("byte %d was damaged but the merged region misses it", i)
		}
	}
	// The list goes on after a merge.
	d.add(Region{Off: 0, Len: 1})
	if d.n != 2 {
		t.Errorf("%d regions after adding to a merged list", d.n)
	}
}

func TestBoundShapes(t *testing.T) {
	for _, c := range []struct {
		name string
		rs   []Region
		want Region
	}{
		{"mixed strides: linear span", []Region{{Off: 100, Len: 10, Stride: 50, Rows: 3}, {Off: 10, Len: 5, Stride: 64, Rows: 2}},
			Region{Off: 10, Len: 100 + 2*50 + 10 - 10, Rows: 1}},
		{"one-row spans only: linear span", []Region{{Off: 40, Len: 10}, {Off: 5, Len: 1}},
			Region{Off: 5, Len: 45, Rows: 1}},
		{"a span across rows becomes whole rows", []Region{{Off: 110, Len: 10, Stride: 100, Rows: 2}, {Off: 395, Len: 10}},
			Region{Off: 100, Len: 100, Stride: 100, Rows: 4}},
	} {
		got := bound(c.rs[:len(c.rs)-1], normalize(c.rs[len(c.rs)-1]))
		if got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
		}
		in, bounded := covered(1000, c.rs...), covered(1000, got)
		for i := range in {
			if in[i] && !bounded[i] {
				t.Errorf("%s: byte %d damaged but not bounded", c.name, i)
				break
			}
		}
	}
}

func TestCopyDamage(t *testing.T) {
	const size = 1000
	src := make([]byte, size)
	for i := range src {
		src[i] = 1
	}
	var d damageList
	d.add(Region{Off: 10, Len: 10, Stride: 100, Rows: 3})   // 30 bytes
	d.add(Region{Off: 500, Len: 100, Stride: 100, Rows: 2}) // contiguous: 200
	d.add(Region{Off: -5, Len: 10})                         // clipped: 5
	d.add(Region{Off: 995, Len: 10})                        // clipped: 5
	d.add(Region{Off: 2000, Len: 10})                       // outside: 0
	d.add(Region{Off: 50, Len: 0})                          // empty: dropped
	if d.n != 5 {
		t.Fatalf("%d regions kept, want 5", d.n)
	}
	dst := make([]byte, size)
	if n := d.copyDamage(dst, src); n != 240 {
		t.Errorf("copied %d bytes, want 240", n)
	}
	want := covered(size, d.r[:d.n]...)
	for i := range dst {
		if (dst[i] == 1) != want[i] {
			t.Fatalf("byte %d: copied %v, damaged %v", i, dst[i] == 1, want[i])
		}
	}
	d.reset()
	if !d.empty() {
		t.Error("reset list not empty")
	}
	d.all = true
	if n := d.copyDamage(dst, src); n != size {
		t.Errorf("all: copied %d", n)
	}
}
