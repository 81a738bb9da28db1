package fbemu

import (
	"fmt"
	"image"
	"image/color"
	"testing"
)

func TestDamageScripted(t *testing.T) {
	b := image.Rect(0, 0, 100, 100)
	for _, tc := range []struct {
		name string
		add  []image.Rectangle
		want string
	}{
		{"nothing", nil, "[]"},
		{"clipped and empty", []image.Rectangle{image.Rect(-5, -5, 3, 2), image.Rect(4, 4, 4, 9), image.Rect(200, 0, 300, 5)}, "[(0,0)-(3,2)]"},
		{"contained", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(2, 2, 5, 5)}, "[(0,0)-(10,10)]"},
		{"swallows smaller", []image.Rectangle{image.Rect(2, 2, 5, 5), image.Rect(50, 50, 51, 51), image.Rect(0, 0, 10, 10)}, "[(50,50)-(51,51) (0,0)-(10,10)]"},
		{"progress bar ticks merge", []image.Rectangle{image.Rect(10, 90, 14, 94), image.Rect(14, 90, 18, 94), image.Rect(18, 90, 22, 94)}, "[(10,90)-(22,94)]"},
		{"disjoint stay apart", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(20, 20, 30, 30)}, "[(0,0)-(10,10) (20,20)-(30,30)]"},
		{"overlap that would waste area stays apart", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(5, 5, 15, 15)}, "[(0,0)-(10,10) (5,5)-(15,15)]"},
		{"chain merge", []image.Rectangle{image.Rect(0, 0, 10, 10), image.Rect(20, 0, 30, 10), image.Rect(10, 0, 20, 10)}, "[(0,0)-(30,10)]"},
	} {
		d := NewDamage(b)
		for _, r := range tc.add {
			d.Add(r)
		}
		if got := fmt.Sprint(d.Rects()); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestDamageBoundedUnionWhenFull(t *testing.T) {
	d := NewDamage(image.Rect(0, 0, 1000, 1000))
	// Sixteen 1-px dots on a diagonal, far apart: the list stays bounded
	// and still covers every dot.
	var dots []image.Rectangle
	for i := 0; i < 16; i++ {
		r := image.Rect(i*60, i*60, i*60+1, i*60+1)
		dots = append(dots, r)
		d.Add(r)
		if len(d.Rects()) > MaxDamageRects {
			t.Fatalf("%d rects after %d adds", len(d.Rects()), i+1)
		}
	}
	if len(d.Rects()) != MaxDamageRects {
		t.Errorf("%d rects, want the list full at %d", len(d.Rects()), MaxDamageRects)
	}
	for _, r := range dots {
		covered := false
		for _, o := range d.Rects() {
			covered = covered || r.In(o)
		}
		if !covered {
			t.Errorf("dot %v lost; rects %v", r, d.Rects())
		}
	}
	// Neighbours are folded together, not everything into one box.
	if d.Area() > 1000*1000/2 {
		t.Errorf("merged area %d is wasteful: %v", d.Area(), d.Rects())
	}
}

func TestSurfaceOpsRecordDamage(t *testing.T) {
	s := NewSurface(64, 48, XRGB8888)
	d := NewDamage(s.Bounds())
	s.SetDamage(d)
	s.FillRect(image.Rect(-4, -4, 4, 4), red)
	s.BlendRect(image.Rect(60, 40, 70, 50), color.RGBA{0, 0, 0x40, 0x40})
	s.Blit(image.Rect(30, 20, 33, 22), NewSprite(image.NewRGBA(image.Rect(0, 0, 3, 2)), XRGB8888), image.Point{}, 0)
	s.CopyArea(image.Rect(10, 10, 12, 12), image.Pt(0, 0))
	want := "[(0,0)-(4,4) (60,40)-(64,48) (30,20)-(33,22) (10,10)-(12,12)]"
	if got := fmt.Sprint(d.Rects()); got != want {
		t.Errorf("damage %s, want %s", got, want)
	}
	d.Reset()
	s.FillRect(image.Rect(5, 5, 5, 50), red) // empty
	if !d.Empty() {
		t.Errorf("empty fill recorded %v", d.Rects())
	}
}
