//go:build linux

// Command drmholder is the guest-side fixture of the VM lifecycle tests: a
// second DRM client next to bootsplash. It holds the device (as a
// compositor taking over would), holds master for a while, takes the
// display and shows something else, or reads back what the primary plane
// scans out (GETFB2) and compares it with the splash's first frame.
//
//	drmholder hold [-drop] [-release-after D]   open the card, wait for SIGTERM
//	drmholder steal WxH                          take master, show green at WxH, drop master, wait for SIGTERM
//	drmholder compare                            exit 0: the plane shows the splash; 3: no framebuffer; 4: another picture
package main

import (
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/client"
	"github.com/bootsplash/bootsplash/fbemu"
	"github.com/bootsplash/bootsplash/internal/uapi"
	"github.com/bootsplash/bootsplash/splash"
)

const card = "/dev/dri/card0"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: drmholder hold [-drop] [-release-after D] | steal WxH | compare")
		os.Exit(2)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	var err error
	code := 1
	switch os.Args[1] {
	case "hold":
		err = hold(os.Args[2:], sig)
	case "steal":
		if len(os.Args) != 3 {
			err = errors.New("steal WxH")
			break
		}
		err = steal(os.Args[2], sig)
	case "compare":
		code, err = compare()
		if err == nil {
			os.Exit(code)
		}
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "drmholder:", err)
		os.Exit(code)
	}
}

// hold opens the card (becoming master if nobody is), optionally drops
// master at once or closes the card after a while, and waits for SIGTERM.
func hold(args []string, sig <-chan os.Signal) error {
	fs := flag.NewFlagSet("hold", flag.ContinueOnError)
	drop := fs.Bool("drop", false, "drop master right after opening")
	release := fs.Duration("release-after", 0, "close the card after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dev, err := client.Open(card, client.Options{})
	if err != nil {
		return err
	}
	defer dev.Close()
	master := dev.SetMaster() == nil // a no-op for the master
	if *drop && master {
		if err := dev.DropMaster(); err != nil {
			return err
		}
		master = false
	}
	fmt.Printf("holding %s (master %v)\n", card, master)
	if *release > 0 {
		select {
		case <-time.After(*release):
			dev.Close()
			fmt.Println("released")
		case <-sig:
			fmt.Println("terminated")
			return nil
		}
	}
	<-sig
	fmt.Println("terminated")
	return nil
}

// steal takes master, shows a green frame at mode wxh on the first output,
// drops master and keeps its framebuffer until SIGTERM.
func steal(mode string, sig <-chan os.Signal) error {
	w, h, err := client.ParseModeSize(mode)
	if err != nil {
		return err
	}
	dev, err := client.Open(card, client.Options{})
	if err != nil {
		return err
	}
	defer dev.Close()
	if err := dev.SetMaster(); err != nil {
		return err
	}
	out, err := dev.SelectOutput(client.OutputRequest{Width: w, Height: h})
	if err != nil {
		return err
	}
	k, err := fbemu.NewKMS(dev, out, fbemu.KMSOptions{
		FramebufferOptions: fbemu.FramebufferOptions{Buffers: 1},
		Scanout:            client.ScanoutOptions{Source: client.SourceDumb},
	})
	if err != nil {
		return err
	}
	defer k.Close()
	if err := k.Frame(func(s *fbemu.Surface) error {
		s.Clear(color.RGBA{G: 0xff, A: 0xff})
		return nil
	}); err != nil {
		return err
	}
	if err := dev.DropMaster(); err != nil {
		return err
	}
	fmt.Printf("stole the display: green at %s\n", out.Mode)
	<-sig
	fmt.Println("terminated")
	return nil
}

// compare reads the primary plane's framebuffer back and compares it with
// the splash's first frame at its size.
func compare() (int, error) {
	dev, err := client.Open(card, client.Options{})
	if err != nil {
		return 1, err
	}
	defer dev.Close()
	ids, err := dev.PlaneIDs()
	if err != nil {
		return 1, err
	}
	var fbID client.FBID
	for _, id := range ids {
		p, err := dev.Plane(id)
		if err != nil {
			return 1, err
		}
		if p.Type == client.PlanePrimary && p.FB != 0 {
			fbID = p.FB
			break
		}
	}
	if fbID == 0 {
		fmt.Println("no framebuffer on the primary plane")
		return 3, nil
	}
	info, err := dev.GetFB2(fbID)
	if err != nil {
		return 1, err
	}
	defer info.Close()
	fmt.Printf("primary plane shows framebuffer %d: %dx%d %s, pitch %d\n", fbID, info.Width, info.Height, info.Format, info.Pitches[0])
	if info.Format != fbemu.XRGB8888.FourCC() && info.Format != fbemu.ARGB8888.FourCC() {
		// The splash is drawn in XRGB8888: this is someone else's
		// picture (the kernel's fbdev console is RGB565 on cirrus).
		fmt.Printf("another picture: format %s, the splash is XRGB8888\n", info.Format)
		return 4, nil
	}
	if info.Handles[0] == 0 {
		return 1, errors.New("GETFB2 gave no handle (not master and not root?)")
	}
	ph := uapi.DrmPrimeHandle{Handle: uint32(info.Handles[0]), Flags: uapi.DRM_CLOEXEC}
	if err := uapi.Ioctl(dev.Fd(), uapi.DRM_IOCTL_PRIME_HANDLE_TO_FD, unsafe.Pointer(&ph)); err != nil {
		return 1, fmt.Errorf("export framebuffer %d's buffer: %w", fbID, err)
	}
	defer unix.Close(int(ph.Fd))
	pitch, off := int(info.Pitches[0]), int(info.Offsets[0])
	mem, err := unix.Mmap(int(ph.Fd), 0, off+pitch*info.Height, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 1, fmt.Errorf("map framebuffer %d's buffer: %w", fbID, err)
	}
	defer unix.Munmap(mem)

	wantPNG := filepath.Join(os.TempDir(), "drmholder-want.png")
	if err := splash.RenderFrame(wantPNG, splash.FrameOptions{Width: info.Width, Height: info.Height}); err != nil {
		return 1, err
	}
	want, err := readPNG(wantPNG)
	if err != nil {
		return 1, err
	}
	n := 0
	var first string
	for y := 0; y < info.Height; y++ {
		for x := 0; x < info.Width; x++ {
			p := mem[off+y*pitch+4*x:]
			r, g, b, _ := want.At(x, y).RGBA()
			if p[2] != uint8(r>>8) || p[1] != uint8(g>>8) || p[0] != uint8(b>>8) {
				if n == 0 {
					first = fmt.Sprintf("(%d,%d) plane #%02x%02x%02x want #%02x%02x%02x", x, y, p[2], p[1], p[0], r>>8, g>>8, b>>8)
				}
				n++
			}
		}
	}
	if n > 0 {
		fmt.Printf("%d pixels differ from the splash; first %s\n", n, first)
		return 4, nil
	}
	fmt.Println("the plane shows the splash, pixel for pixel")
	return 0, nil
}

func readPNG(name string) (image.Image, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return png.Decode(f)
}
