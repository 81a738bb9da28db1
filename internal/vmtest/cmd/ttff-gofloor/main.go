// Command ttff-gofloor is the time-to-first-frame floor written in Go on
// bootsplash's own kernel layers and nothing above them: the first card,
// its first connected output, a scanout buffer by the same rule bootsplash
// follows (a heap buffer over PRIME, else a dumb buffer), one colour
// written inside one CPU access bracket, one modeset (and a DIRTYFB for a
// dumb buffer, as the C floor does). No theme, no text, no control
// sockets. Beside the C floor (internal/vmtest/testdata/ttff_floor.c) it
// shows what the Go runtime and the client and access packages cost;
// beside bootsplash, what everything else does. It writes a line at main
// and one when the frame is up, for the in-guest clock
// (internal/vmtest/testdata/ttff_time.c), and holds the frame until it is
// killed.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
)

// colour is the floor's colour, #336699, as XRGB8888 in memory (B, G, R, X).
var colour = [4]byte{0x99, 0x66, 0x33, 0xff}

func main() {
	// For the in-guest clock (ttff_time.c): main is reached, then the
	// frame is up.
	os.Stderr.WriteString("ttff-gofloor: main\n")
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ttff-gofloor:", err)
		os.Exit(1)
	}
	os.Stderr.WriteString("ttff-gofloor: shown\n")
	for {
		time.Sleep(time.Hour)
	}
}

func run() error {
	dev, err := client.Open("", client.Options{})
	if err != nil {
		return err
	}
	out, err := dev.SelectOutput(client.OutputRequest{})
	if err != nil {
		return err
	}
	s, err := client.NewScanout(dev, out.Mode.Width(), out.Mode.Height(), client.FormatXRGB8888, client.ScanoutOptions{})
	if err != nil {
		return err
	}
	m, err := access.Map(s.Buffer, access.Cached)
	if err != nil {
		return err
	}
	pix, err := m.Begin(access.Write)
	if err != nil {
		return err
	}
	row := pix[:s.Width*4]
	for x := 0; x < len(row); x += 4 {
		copy(row[x:], colour[:])
	}
	for y := 1; y < s.Height; y++ {
		copy(pix[y*s.Pitch:], row)
	}
	m.DamageAll()
	if err := m.End(); err != nil {
		return err
	}
	if err := dev.Modeset(out, s.FB); err != nil {
		return err
	}
	if s.Buffer.Kind() == access.KindDumb {
		return dev.DirtyFB(s.FB, nil)
	}
	return nil
}
