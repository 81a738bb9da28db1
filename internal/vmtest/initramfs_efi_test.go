package vmtest

import (
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// initramfsPrereqs is the head of an initramfs-tools hook or boot script
// that needs no other to run before it: it answers initramfs-tools'
// "prereqs" call with none.
const initramfsPrereqs = `#!/bin/sh
PREREQ=""
prereqs() {
	echo "$PREREQ"
}
case "$1" in
prereqs)
	prereqs
	exit 0
	;;
esac
`

// lateBochsHook is the test's own initramfs-tools hook: it puts the bochs
// DRM driver and the modules it needs into the initramfs without naming it
// in the modules list, so that only lateBochsScript loads it.
const lateBochsHook = initramfsPrereqs + `. /usr/share/initramfs-tools/hook-functions
manual_add_modules bochs
`

// lateBochsScript is the test's own init-premount script. udev does not
// load bochs (modprobe.blacklist=bochs on the command line keeps the alias
// from it); this script loads it by name a few seconds later in the
// background, as a driver that binds late would, then waits for the
// splash's handover to the card and prints to the console the splash's
// log and every bootsplash.png in the initramfs's files (/proc, /sys and
// /dev left out). It
// uses only the shell and klibc-utils, as the initramfs has no busybox.
const lateBochsScript = initramfsPrereqs + `
pngs() {
	local f
	for f in "$1"/* "$1"/.[!.]*; do
		[ -e "$f" ] || continue
		[ -L "$f" ] && continue
		case "$f" in /proc | /sys | /dev) continue ;; esac
		files=$((files + 1))
		if [ -d "$f" ]; then
			pngs "$f"
		elif [ "${f##*/}" = bootsplash.png ]; then
			echo "latebochs: found $f"
		fi
	done
}

(
	sleep 6
	if [ -d /sys/module/bochs ]; then
		echo "latebochs: bochs was loaded before its time"
	fi
	echo "latebochs: modprobe bochs"
	# initramfs-tools' init sets MODPROBE_OPTIONS=-qb: -b would apply
	# the blacklist to the name too.
	MODPROBE_OPTIONS= modprobe bochs || echo "latebochs: modprobe bochs failed"
	n=0
	while [ $n -lt 300 ]; do
		while read -r line; do
			case "$line" in
			*"handover: first frame on"*) break 2 ;;
			esac
		done </run/initramfs/bootsplash.log
		sleep 0.1
		n=$((n + 1))
	done
	while read -r line; do
		echo "latebochs| $line"
	done </run/initramfs/bootsplash.log
	files=0
	pngs ""
	echo "latebochs= looked at $files files for bootsplash.png"
	echo "latebochs: done"
) >/dev/console 2>&1 &
exit 0
`

// TestVMInitramfsToolsFirmware boots Debian's 6.12 kernel through OVMF on
// QEMU's bochs-display with an initramfs that Debian's mkinitramfs built
// with the packaging's hook and scripts, and no guest init of ours:
// initramfs-tools' init runs packaging's init-top script, which starts
// `bootsplash run --backend auto` as a boot splash while the only display
// is efifb's /dev/fb0 (OVMF's GOP). The bochs DRM driver binds late, loaded
// by the test's own init-premount script (lateBochsScript). Seen from the
// host by QMP screendumps and the serial console: the splash must be on
// the screen, pixel for pixel `bootsplash render` at the GOP's 1280x800,
// before the console shows the kernel removing efifb (so drawn on fb0);
// after the handover the screen must again be the splash, on the card,
// with no screendump in between that is not the splash; and the splash's
// log must show the firmware framebuffer, then the handover to the card,
// and no emulated display, with no bootsplash.png anywhere.
func TestVMInitramfsToolsFirmware(t *testing.T) {
	vmEnabled(t)
	needOVMF(t)
	it := newInitramfsTools(t)
	out := freshOut(t, it.root, "initramfs-tools-firmware")
	img := it.build(t, map[string]string{
		"initramfs.conf":                  "MODULES=list\nBUSYBOX=auto\nCOMPRESS=gzip\n",
		"modules":                         "",
		"hooks/latebochs":                 lateBochsHook,
		"scripts/init-premount/latebochs": lateBochsScript,
	})

	// The built-in theme takes no firmware logo: the frame is render's at
	// the GOP's size, on fb0 and on the card alike.
	want := renderSplash(t, out, 1280, 800)

	qemuStart := time.Now()
	// No root device: the init waits for it (30 s), long enough.
	// bootsplash.debug: the helper starts the splash with -v, so its
	// log shows the display it took. plymouth.enable=0: the host's
	// plymouth hook may have put plymouthd in the image.
	shot, console := it.boot(t, out, BochsDisplay, img,
		"console=ttyS0 splash root=/dev/vdz bootsplash.debug plymouth.enable=0 modprobe.blacklist=bochs",
		"-bios", OVMF)
	// kstart estimates when the kernel started, on the host's clock after
	// qemuStart: a console line stamped ts read at host time h was
	// printed at or before h, so the kernel started at or before h-ts.
	kstart := time.Duration(math.MaxInt64)
	stamp := regexp.MustCompile(`(?m)^\[\s*([0-9]+\.[0-9]+)\]`)
	seen := 0
	consoleText := func() string {
		b, _ := os.ReadFile(console)
		at := time.Since(qemuStart)
		for _, m := range stamp.FindAllSubmatchIndex(b[seen:], -1) {
			ts, _ := strconv.ParseFloat(string(b[seen+m[2]:seen+m[3]]), 64)
			if d := at - time.Duration(ts*float64(time.Second)); d < kstart {
				kstart = d
			}
		}
		seen = len(b)
		return string(b)
	}
	// The kernel's word that efifb is going: fbcon leaving fb0 (Debian's
	// 6.12 prints no "fb0: switching to bochs-drm from EFI VGA" on the
	// console; older kernels did, before it).
	removed := func(c string) bool {
		return strings.Contains(c, "switching to bochs-drm from EFI VGA") ||
			strings.Contains(c, "Console: switching to colour dummy device")
	}
	ms := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }

	// Until the driver binds: the splash must come up on efifb's fb0. The
	// console is read after each screendump, so a screendump taken while
	// the console did not yet say the switch came before it.
	var firstAt, switchAt time.Duration
	var beforeLoad bool
	var last *image.RGBA
	for {
		last = shot()
		n, _ := comparePixels(last, want)
		c := consoleText()
		at := time.Since(qemuStart)
		if n == 0 {
			if removed(c) {
				t.Fatalf("the splash first showed after the kernel removed efifb for bochs-drm, not on efifb's fb0; console:\n%s", tail(c, 60))
			}
			firstAt = at
			beforeLoad = !strings.Contains(c, "latebochs: modprobe bochs")
			break
		}
		if removed(c) || strings.Contains(c, "Gave up waiting for root") || at > 4*time.Minute {
			writePNG(filepath.Join(out, "screen.png"), last)
			n, first := comparePixels(last, want)
			t.Fatalf("the splash never showed on efifb's fb0 before bochs-drm took it over (%d pixels differ; first: %s); screen in %s, console:\n%s",
				n, strings.Join(first, "; "), out, tail(c, 60))
		}
	}
	t.Logf("the splash is on efifb's fb0: %v after QEMU started, %v after the kernel started (estimated from the console's stamps); bochs not yet loaded: %v", ms(firstAt), ms(firstAt-kstart), beforeLoad)

	// The driver binds: watch every screendump until the test's script
	// has printed the splash's log, which it does after the handover.
	var shots, other, black int
	var lastGood, firstGoodAfter, lastOther time.Duration
	var firstOther *image.RGBA
	for {
		s := shot()
		n, _ := comparePixels(s, want)
		c := consoleText()
		at := time.Since(qemuStart)
		if switchAt == 0 && removed(c) {
			switchAt = at
		}
		shots++
		if n == 0 {
			if other == 0 {
				lastGood = at
			} else if firstGoodAfter <= lastOther {
				firstGoodAfter = at
			}
		} else {
			other++
			lastOther = at
			if isBlack(s) {
				black++
			}
			if firstOther == nil {
				firstOther = s
			}
		}
		if strings.Contains(c, "latebochs: done") {
			break
		}
		if strings.Contains(c, "Gave up waiting for root") || at > 5*time.Minute {
			t.Fatalf("the test's script never printed the splash's log; console:\n%s", tail(c, 60))
		}
	}
	c := consoleText()
	if switchAt == 0 {
		t.Fatalf("the kernel never removed efifb for bochs-drm; console:\n%s", tail(c, 60))
	}
	// After the handover: the card shows the splash.
	last = shot()
	if n, first := comparePixels(last, want); n != 0 {
		writePNG(filepath.Join(out, "screen.png"), last)
		t.Errorf("after the handover the card does not show the splash: %d pixels differ; first: %s", n, strings.Join(first, "; "))
	}
	summary := fmt.Sprintf("%d screendumps from the first frame on fb0 to the splash's log on the console (efifb's removal seen %v after the first frame): %d not the splash (%d all black)",
		shots, ms(switchAt-firstAt), other, black)
	if firstOther != nil {
		writePNG(filepath.Join(out, "watch-other.png"), firstOther)
		summary += "; the first kept as watch-other.png"
		if firstGoodAfter > lastOther {
			summary += fmt.Sprintf("; the splash was off screen for at most %v", ms(firstGoodAfter-lastGood))
		}
	}
	t.Log(summary)
	if m := regexp.MustCompile(`\[\s*([0-9]+\.[0-9]+)\] Console: switching to colour dummy device`).FindStringSubmatch(c); m != nil {
		ts, _ := strconv.ParseFloat(m[1], 64)
		gone := time.Duration(ts * float64(time.Second))
		t.Logf("the kernel removed efifb %v after it started: the splash was on fb0 %v before", ms(gone), ms(gone-(firstAt-kstart)))
	}
	// A screendump taken while a frame is being written (fbdev and the
	// card's first frame are drawn in place) may catch it half drawn, as
	// TestVMFirmwareFramebuffer counts; anything longer, or black, is a
	// picture that is not the splash (fbcon's cursor drawn over it until
	// the VT went to graphics mode was 241 of 247, for 30 s).
	switch {
	case other == 0:
	case black != 0 || other > 2 || firstGoodAfter <= lastOther:
		t.Errorf("%d screendumps while bochs-drm took over were not the splash (%d black)", other, black)
	case firstGoodAfter-lastGood > 500*time.Millisecond:
		t.Errorf("the splash was off screen for %v while bochs-drm took over", ms(firstGoodAfter-lastGood))
	}

	// The splash's log, as the script printed it: fb0 first, then the
	// card, no emulated display and no PNG.
	var log []string
	for _, l := range strings.Split(c, "\n") {
		if i := strings.Index(l, "latebochs| "); i >= 0 {
			log = append(log, l[i+len("latebochs| "):])
		}
		switch l := strings.TrimSpace(l); {
		case l == "latebochs: modprobe bochs", l == "latebochs: done":
		case strings.Contains(l, "latebochs: "):
			t.Errorf("the test's script: %s", l)
		}
	}
	if m := regexp.MustCompile(`latebochs= looked at ([0-9]+) files`).FindStringSubmatch(c); m == nil {
		t.Errorf("the test's script did not look for bootsplash.png")
	} else if n, _ := strconv.Atoi(m[1]); n < 100 {
		t.Errorf("the test's script looked at only %d files for bootsplash.png", n)
	} else {
		t.Logf("no bootsplash.png among the initramfs's %d files (/proc, /sys and /dev left out)", n)
	}
	run := strings.Join(log, "\n")
	t.Logf("/run/initramfs/bootsplash.log:\n%s", run)
	pos := -1
	for _, w := range []string{
		"no dma-buf and no DMA_BUF_IOCTL_SYNC",
		"the firmware framebuffer /dev/fb0 exists",
		"handover: the kernel removed /dev/fb0",
		"handover: /dev/dri/card0 (bochs-drm) takes the display over from /dev/fb0",
		"handover: first frame on /dev/dri/card0",
	} {
		i := strings.Index(run, w)
		if i < 0 {
			t.Errorf("the splash's log does not say %q", w)
			continue
		}
		if i < pos {
			t.Errorf("the splash's log says %q out of order", w)
		}
		pos = i
	}
	for _, w := range []string{"emulated display", "bootsplash.png"} {
		if strings.Contains(run, w) {
			t.Errorf("the splash's log mentions %q", w)
		}
	}
	if m := regexp.MustCompile(`first frame on /dev/dri/card0 ([0-9.]+)ms after the last frame on /dev/fb0 \(([0-9.]+)ms after the kernel removed it; ([0-9.]+)ms after the card's event came\)`).FindStringSubmatch(run); m != nil {
		t.Logf("handover gap, from the splash's log: first frame on card0 %sms after the kernel removed efifb's fb0 (%sms after the card's event; %sms after the last frame on fb0)", m[2], m[3], m[1])
	}
	for _, l := range strings.Split(c, "\n") {
		if strings.Contains(l, "bochs") || strings.Contains(l, "efifb") || strings.Contains(l, "switching to") || strings.Contains(l, "/init") {
			t.Logf("console: %s", strings.TrimSpace(l))
		}
	}
}
