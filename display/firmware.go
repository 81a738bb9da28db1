package display

import "image"

// FirmwareMode is the size of the mode the firmware left the screen in,
// as far as d knows it: the firmware framebuffer's size for a display
// that began on one (efifb, vesafb, simplefb), kept after it moved to the
// DRM card; zero when d never saw the firmware's mode (a card opened
// directly). FirmwareLogo.Place takes it to draw the logo where the
// firmware did.
func FirmwareMode(d Display) image.Point {
	if f, ok := d.(interface{ firmwareMode() image.Point }); ok {
		return f.firmwareMode()
	}
	return image.Point{}
}
