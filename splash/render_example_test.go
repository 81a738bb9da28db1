package splash_test

import (
	"fmt"
	"strings"

	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/splash"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// show prints a surface with one character per pixel by brightness.
func show(s *fbemu.Surface) {
	for y := 0; y < s.Height(); y++ {
		var b strings.Builder
		for x := 0; x < s.Width(); x++ {
			c := s.RGBAAt(x, y)
			b.WriteByte(" .:+*#"[min(5, (int(c.R)+int(c.G)+int(c.B))/3/43)])
		}
		fmt.Println("|" + b.String() + "|")
	}
}

// A progress bar 18 pixels long on a 24x5 screen: painted at 25% (4.5
// pixels: the fifth column half covered), then updated to 50%, which
// repaints only the columns between the two ends.
func ExampleRenderer_Update() {
	th, err := theme.Parse("example.toml", []byte(`
[background]
color = "#000000"

[progress]
width = 0.75
height = 3
radius = 0
color = "#ffffff"
track = "#606060"
`), ".", theme.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := splash.NewRenderer(th, 1)
	s := fbemu.NewSurface(24, 5, fbemu.XRGB8888)
	if err := r.Paint(s, splash.State{Progress: 0.25}); err != nil {
		fmt.Println(err)
		return
	}
	show(s)
	d := fbemu.NewDamage(s.Bounds())
	s.SetDamage(d)
	if err := r.Update(s, splash.State{Progress: 0.25}, splash.State{Progress: 0.5}); err != nil {
		fmt.Println(err)
		return
	}
	show(s)
	fmt.Println("repainted", d.Rects())
	// Output:
	// |                        |
	// |   ####*:::::::::::::   |
	// |   ####*:::::::::::::   |
	// |   ####*:::::::::::::   |
	// |                        |
	// |                        |
	// |   #########:::::::::   |
	// |   #########:::::::::   |
	// |   #########:::::::::   |
	// |                        |
	// repainted [(7,1)-(12,4)]
}
