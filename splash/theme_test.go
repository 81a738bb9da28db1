package splash

import (
	"testing"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// Text drawn over the bar: a progress tick touches the text, so the
// update repaints the whole line once and still equals Paint.
func TestUpdateTextOverBar(t *testing.T) {
	path := testutil.WriteTheme(t, `
[background]
top = "#000000"
bottom = "#203040"
[progress]
y = 0.5
height = 30
color = "#3080ff"
[message]
anchor = "center"
y = 0.5
size = 14
color = "#ffffffc0"
`, nil)
	th, err := theme.Load(path, theme.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := State{Progress: 0.45, Message: "WWWWWWWW"}
	for _, b := range []State{{Progress: 0.5, Message: a.Message}, {Progress: 0.47, Message: "iiii"}} {
		r := NewRenderer(th, 1)
		s := fbemu.NewSurface(400, 200, fbemu.XRGB8888)
		if err := r.Paint(s, a); err != nil {
			t.Fatal(err)
		}
		if err := r.Update(s, a, b); err != nil {
			t.Fatal(err)
		}
		if n := surfacesDiffer(s, paintOn(t, th, 400, 200, b)); n != 0 {
			t.Errorf("%+v: %d pixels differ from Paint", b, n)
		}
	}
}
