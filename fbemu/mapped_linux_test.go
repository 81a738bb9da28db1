package fbemu

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/access"
)

// TestNewOnPansBetweenTwoBuffers draws three frames on a Framebuffer over
// two memfds, as over a firmware framebuffer's memory stacked twice: each
// frame is presented on the buffer it drew in, alternately, and the
// buffer shown holds the whole picture (the second frame's buffer caught
// up with the first's).
func TestNewOnPansBetweenTwoBuffers(t *testing.T) {
	const w, h = 64, 48
	stride := w * 4
	var bufs []*access.Buffer
	for range 2 {
		b, err := access.AllocMemfd(stride * h)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
	}
	var shown []int
	closed := 0
	fb, err := NewOn(bufs, []int{stride, stride}, w, h, XRGB8888, FramebufferOptions{Buffers: 2}, Scanout{
		Name:    "testfb",
		Present: func(i int, _ []image.Rectangle) error { shown = append(shown, i); return nil },
		Close:   func() error { closed++; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	red, green := color.RGBA{R: 0xff, A: 0xff}, color.RGBA{G: 0xff, A: 0xff}
	frames := []func(s *Surface){
		func(s *Surface) { s.Clear(red) },
		func(s *Surface) { s.FillRect(image.Rect(0, 0, 8, 8), green) },
		func(s *Surface) { s.FillRect(image.Rect(8, 8, 16, 16), green) },
	}
	for _, f := range frames {
		if err := fb.Frame(func(s *Surface) error { f(s); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if want := []int{0, 1, 0}; len(shown) != 3 || shown[0] != want[0] || shown[1] != want[1] || shown[2] != want[2] {
		t.Errorf("presented buffers %v, want %v", shown, want)
	}
	if fx := fb.Fix(); fx.ID != "testfb" || fx.SmemLen != 2*stride*h || fx.LineLength != stride {
		t.Errorf("Fix = %+v", fx)
	}
	// Buffer 0 is shown: the red frame, both green squares.
	m, err := access.Map(bufs[0], access.NoSync)
	if err != nil {
		t.Fatal(err)
	}
	pix, err := m.Begin(access.Read)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSurfaceOn(pix, w, h, stride, XRGB8888)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y int
		want color.RGBA
	}{{2, 2, green}, {10, 10, green}, {30, 30, red}} {
		if got := s.RGBAAt(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
	m.End()
	m.Close()
	if err := fb.Close(); err != nil || closed != 1 {
		t.Errorf("Close: %v, owner closed %d times", err, closed)
	}
}

// TestNewOnRefusesTooLittleMemory: a buffer smaller than its rows is
// refused with the sizes, and the buffers are closed.
func TestNewOnRefusesTooLittleMemory(t *testing.T) {
	b, err := access.AllocMemfd(4096)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewOn([]*access.Buffer{b}, []int{256}, 64, 48, XRGB8888, FramebufferOptions{}, Scanout{Name: "tiny"})
	if err == nil || !strings.Contains(err.Error(), "tiny: buffer 0 holds 4096 bytes at a stride of 256, too little for 64x48") {
		t.Errorf("NewOn: %v", err)
	}
	if b.Fd() >= 0 {
		t.Error("the refused buffer was not closed")
	}
}
