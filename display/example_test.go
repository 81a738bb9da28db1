package display_test

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"github.com/bootsplash/bootsplash/display"
	"github.com/bootsplash/bootsplash/fbemu"
)

// Open a display, draw one frame on every head and show it. With
// BackendAuto this takes the KMS device when there is one; here it asks
// for the emulated display, which needs no device.
func ExampleOpen() {
	d, err := display.Open(context.Background(), display.Options{Backend: display.BackendEmu, EmuSize: image.Pt(64, 48)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	fmt.Printf("%v: %s\n", d.Kind(), d.Why())
	for _, h := range d.Heads() {
		fmt.Println(h.Name, h.Size, "full frame wanted:", h.Full())
		err := h.Framebuffer.Frame(func(s *fbemu.Surface) error {
			s.Clear(color.RGBA{0x20, 0x40, 0x80, 0xff})
			s.FillRect(image.Rect(8, 8, 24, 16), color.RGBA{0xff, 0xff, 0xff, 0xff})
			return nil
		})
		if err == nil {
			err = h.Present()
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("full frame wanted:", h.Full())
	}
	// The emulated display's pixels can be read back.
	img, err := d.(*display.EmulatedDisplay).Emulated().Snapshot()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(img.At(0, 0), img.At(10, 10))
	// Output:
	// emu: asked for the emulated display
	// emulated (64,48) full frame wanted: true
	// full frame wanted: false
	// {32 64 128 255} {255 255 255 255}
}
