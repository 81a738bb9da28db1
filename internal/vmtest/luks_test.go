package vmtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
	"github.com/bootsplash/bootsplash/internal/vmtest/proto"
	"github.com/bootsplash/bootsplash/splash"
)

// cryptsetupBin is where Debian's cryptsetup is in the guest, as in an
// initramfs made by cryptsetup-initramfs.
const cryptsetupBin = "/sbin/cryptsetup"

// luksPayload is what the test volume holds in the clear: a first line to
// recognise it and pseudo-random bytes (a fixed seed) after it.
func luksPayload(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'b', 'o', 'o', 't', 's', 'p', 'l', 'a', 's', 'h'})
	r.Read(b)
	head := []byte("bootsplash LUKS2 test volume\n")
	copy(b, head)
	return b
}

// The key slot's PBKDF: Argon2id, Debian's default, with the cost cut
// down so that opening it under TCG takes about a second (a real
// volume's Argon2id, a second of work and up to a gigabyte on the
// machine that made it, would take minutes in the emulated guest and
// say nothing about the splash).
const (
	luksKDFMemory = 16384 // KiB
	luksKDFTime   = 4     // iterations, the least cryptsetup takes
)

// makeLUKS2 writes a LUKS2 volume holding payload to path with Debian's
// cryptsetup: the payload is written in the clear and encrypted in place
// (`cryptsetup reencrypt --encrypt`, offline: the host needs neither
// device-mapper nor a loop device).
func makeLUKS2(ctx context.Context, cryptsetup, path, pass string, payload []byte) error {
	// The header (and its key slots) takes 16 MiB at the start: the data
	// moves up by that much, and the device must have room for the move.
	const header = 16 << 20
	if err := os.WriteFile(path, payload, 0o600); err != nil {
		return err
	}
	if err := os.Truncate(path, int64(len(payload))+2*header); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, cryptsetup, "reencrypt", "--encrypt", "--type", "luks2",
		"--reduce-device-size", fmt.Sprintf("%dM", 2*header>>20), "--cipher", "aes-xts-plain64", "--key-size", "512",
		"--pbkdf", "argon2id", "--pbkdf-memory", fmt.Sprint(luksKDFMemory), "--pbkdf-parallel", "1", "--pbkdf-force-iterations", fmt.Sprint(luksKDFTime), "--batch-mode", "--disable-locks",
		"--key-file=-", path)
	cmd.Stdin = strings.NewReader(pass)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	// The clear text must be gone from the image.
	img, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if bytes.Contains(img, payload[:64]) {
		return fmt.Errorf("%s still holds the payload in the clear after cryptsetup reencrypt --encrypt", path)
	}
	return nil
}

// TestVMLuksUnlock unlocks a real LUKS2 volume from the splash, the whole
// encrypted-boot path as an initramfs runs it, twice: the host makes a
// LUKS2 image with Debian's cryptsetup and attaches it as a virtio disk;
// `bootsplash run` owns the VT. First Debian's plymouth client asks for
// the passphrase and hands it to Debian's cryptsetup, as dracut's
// crypt-lib does:
//
//	plymouth ask-for-password --prompt P --number-of-tries=3 \
//	    --command="/sbin/cryptsetup open --type luks2 --key-file=- /dev/vda root"
//
// The passphrase is typed at QEMU's own keyboard (QMP input-send-event through the
// i8042): first a wrong one, and the prompt comes back with the retry line
// (cryptsetup said no); then the right one. /dev/mapper/root then exists
// and reads back, through dm-crypt of the 6.12 kernel, the payload the
// host wrote before encrypting it.
//
// Then, the mapping closed, Debian's own initramfs script does it:
// scripts/local-top/cryptroot from cryptsetup-initramfs, unchanged, under
// busybox's sh, with the crypttab line mkinitramfs writes ("root /dev/vda
// none luks"): it runs /lib/cryptsetup/askpass, which asks through
// plymouth, piped into `cryptsetup -T1 --key-file=- open`, three tries.
// After the wrong passphrase its error shows on the splash (plymouth
// message) above a new prompt; after the right one, "set up
// successfully", and the mapping reads back the payload again.
func TestVMLuksUnlock(t *testing.T) {
	vmEnabled(t)
	hostPly := testutil.NeedCommand(t, "plymouth")
	// cryptsetup is in /usr/sbin, which a user's PATH may lack.
	hostCS := "/usr/sbin/cryptsetup"
	if _, err := os.Stat(hostCS); err != nil {
		hostCS = testutil.NeedCommand(t, "cryptsetup")
	}
	ctx := context.Background()
	root, dir, guestInit := guestBase(t, ctx)
	buildGuestPrograms(t, ctx, root, dir, map[string]string{
		"bootsplash": "./cmd/bootsplash",
		"headcheck":  "./internal/vmtest/internal/headcheck",
	})
	out := freshOut(t, root, "luks")
	const (
		wrong  = "let-me-in-1"
		right  = "open-sesame-42"
		prompt = "Please unlock disk root:"
		// The payload read back: the first MiB of the volume.
		check = 1 << 20
	)
	payload := luksPayload(4 << 20)
	img := filepath.Join(out, "luks2.img")
	start := time.Now()
	if err := makeLUKS2(ctx, hostCS, img, right, payload); err != nil {
		t.Fatal(err)
	}
	t.Logf("LUKS2 image (aes-xts-plain64, Argon2id with %d KiB and %d iterations) made in %v", luksKDFMemory, luksKDFTime, time.Since(start).Round(time.Millisecond))
	// Debian's initramfs path: the cryptroot script (cryptsetup-initramfs),
	// the functions it sources (initramfs-tools-core's, cryptsetup's), the
	// askpass keyscript, dmsetup, and busybox for the shell and its
	// applets, each from its Debian package, at the paths an initramfs
	// made by mkinitramfs has them.
	deb := func(pkg, path string) string { return filepath.Join(fetchDebTree(t, ctx, root, pkg), path) }
	busybox := deb("busybox-static", "bin/busybox")
	files := []File{
		{Path: "/bin/busybox", HostPath: busybox}, {Path: "/bin/sh", HostPath: busybox},
		{Path: "/scripts/local-top/cryptroot", HostPath: deb("cryptsetup-initramfs", "usr/share/initramfs-tools/scripts/local-top/cryptroot")},
		{Path: "/scripts/functions", HostPath: deb("initramfs-tools-core", "usr/share/initramfs-tools/scripts/functions")},
		{Path: "/lib/cryptsetup/functions", HostPath: deb("cryptsetup", "lib/cryptsetup/functions")},
		// mkinitramfs's cryptroot hook writes the crypttab entry of the
		// root file system here.
		{Path: "/cryptroot/crypttab", Data: []byte("root /dev/vda none luks\n")},
	}
	for host, guest := range map[string]string{hostPly: plymouthBin, hostCS: cryptsetupBin,
		// cryptsetup_message and askpass call plymouth at /bin.
		hostPly + " ": "/bin/plymouth",
		deb("cryptsetup", "lib/cryptsetup/askpass"): "/lib/cryptsetup/askpass",
		deb("dmsetup", "sbin/dmsetup"):              "/sbin/dmsetup",
		// util-linux's, as initramfs-tools' hooks copy it.
		deb("util-linux", "sbin/blkid"): "/sbin/blkid",
	} {
		host = strings.TrimSpace(host)
		f, err := ProgramFiles(host, guest)
		if err != nil {
			t.Fatalf("%s cannot go into the guest: %v", host, err)
		}
		files = append(files, f...)
	}
	const bs, hc = "/bin/bootsplash", "/bin/headcheck"
	files = append(files, File{Path: bs, HostPath: filepath.Join(dir, "bootsplash")}, File{Path: hc, HostPath: filepath.Join(dir, "headcheck")})
	k := fetchKernel(t, ctx, root, Kernel612)

	long := proto.Duration(90 * time.Second)
	frames := newFrameCache(out)
	pw := func(bullets int, retry bool) splash.State {
		return splash.State{Prompt: splash.Prompt{Active: true, Password: true, Text: prompt, Bullets: bullets, Retry: retry}}
	}
	// cryptroot's prompt ("Please unlock disk root: ", which askpass
	// hands plymouth without its ": ") and its message after a failed
	// try.
	const crFailed = "cryptsetup: ERROR: root: cryptsetup failed, bad password or options?"
	crPrompt := func(bullets int, message string) splash.State {
		return splash.State{Message: message, Prompt: splash.Prompt{Active: true, Password: true, Text: "Please unlock disk root", Bullets: bullets}}
	}
	var enter, crEnter time.Duration // guest uptime when the right passphrase's Enter was sent
	unlockCmd := cryptsetupBin + " open --type luks2 --key-file=- /dev/vda root"
	cfg := Config{
		Kernel: k, Device: Cirrus, GuestInit: guestInit, Logf: t.Logf, WorkDir: out, Timeout: 8 * time.Minute,
		Files: files,
		// The disk, and what opening it takes of Debian's kernel:
		// virtio-blk, device-mapper's crypt target, and xts (AES itself
		// is built in). algif_skcipher lets cryptsetup decrypt the key
		// slot through the kernel's crypto API, as on a real system.
		// The kernel asks modprobe for nothing: the guest has none.
		Modules: append(Cirrus.Modules(), ModuleSpec{Name: "virtio_blk"}, ModuleSpec{Name: "dm_crypt"},
			ModuleSpec{Name: "xts"}, ModuleSpec{Name: "algif_skcipher"}),
		ExtraArgs: []string{"-drive", "file=" + img + ",if=none,id=luks,format=raw", "-device", "virtio-blk-pci,drive=luks"},
		Plan: proto.Plan{WaitPaths: []string{"/dev/dri/card0", "/dev/tty0", "/dev/vda", "/dev/mapper/control"}, Steps: []proto.Step{
			{Name: "run", Cmd: []string{bs, "run", "-v", "--keyboard", "tty"}, Background: true, WaitFor: "first frame after", Timeout: proto.Duration(5 * time.Minute)},
			{Name: "unlock", Cmd: []string{plymouthBin, "ask-for-password", "--prompt", prompt, "--number-of-tries=3", "--command=" + unlockCmd},
				Background: true, Timeout: long},
			{Name: "prompt", Host: true, Timeout: long},
			{Name: "type wrong", Host: true, Timeout: long},
			{Name: "type right", Host: true, Timeout: long},
			{Name: "wait unlock", Wait: "unlock", Timeout: long},
			{Name: "mapper", WaitPath: "/dev/mapper/root", Timeout: proto.Duration(10 * time.Second)},
			{Name: "read back", Cmd: []string{hc, "/dev/mapper/root", fmt.Sprint(check)}, Timeout: long},
			{Name: "status", Cmd: []string{cryptsetupBin, "status", "root"}, Timeout: long},
			{Name: "dump", Cmd: []string{cryptsetupBin, "luksDump", "/dev/vda"}, Timeout: long},

			// Again as Debian's initramfs does it: its cryptroot script,
			// unchanged, under busybox's sh, reads the crypttab, runs
			// askpass (which asks through plymouth) piped into
			// cryptsetup, and says how it went with plymouth message.
			{Name: "close", Cmd: []string{cryptsetupBin, "close", "root"}, Timeout: long},
			{Name: "busybox", Cmd: []string{"/bin/busybox", "--install", "-s"}, Timeout: long},
			{Name: "cryptroot", Cmd: []string{"/bin/sh", "/scripts/local-top/cryptroot"}, Env: []string{"PATH=/sbin:/usr/sbin:/bin:/usr/bin", "quiet=y"},
				Background: true, Timeout: long},
			{Name: "cryptroot prompt", Host: true, Timeout: long},
			{Name: "cryptroot wrong", Host: true, Timeout: long},
			{Name: "cryptroot right", Host: true, Timeout: long},
			{Name: "wait cryptroot", Wait: "cryptroot", Timeout: long},
			{Name: "cryptroot done", Host: true, Timeout: long},
			{Name: "read back again", Cmd: []string{hc, "/dev/mapper/root", fmt.Sprint(check)}, Timeout: long},
			{Name: "quit", Cmd: []string{bs, "ctl", "quit"}, Timeout: long},
			{Name: "wait run", Wait: "run", Timeout: long},
		}},
		Host: map[string]HostFunc{
			"cryptroot prompt": func(ctx context.Context, m *Machine) error {
				return frames.await(m, "cryptroot prompt", -1, crPrompt(0, ""), false, 60*time.Second)
			},
			"cryptroot wrong": func(ctx context.Context, m *Machine) error {
				if err := typeKeys(m, wrong+"\n"); err != nil {
					return err
				}
				// askpass asks again on a new connection: no retry
				// line, but cryptroot's own message on the splash.
				return frames.await(m, "cryptroot retry", -1, crPrompt(0, crFailed), false, 60*time.Second)
			},
			"cryptroot right": func(ctx context.Context, m *Machine) error {
				if err := typeKeys(m, right); err != nil {
					return err
				}
				if err := frames.await(m, "cryptroot right typed", -1, crPrompt(len(right), crFailed), false, 60*time.Second); err != nil {
					return err
				}
				crEnter = m.GuestUptime(time.Now())
				return typeKeys(m, "\n")
			},
			"cryptroot done": func(ctx context.Context, m *Machine) error {
				return frames.await(m, "cryptroot done", -1, splash.State{Message: "cryptsetup: root: set up successfully"}, false, 60*time.Second)
			},
			"prompt": func(ctx context.Context, m *Machine) error {
				return frames.await(m, "prompt", -1, pw(0, false), false, 60*time.Second)
			},
			"type wrong": func(ctx context.Context, m *Machine) error {
				if err := typeKeys(m, wrong); err != nil {
					return err
				}
				if err := frames.await(m, "wrong typed", -1, pw(len(wrong), false), false, 60*time.Second); err != nil {
					return err
				}
				if err := typeKeys(m, "\n"); err != nil {
					return err
				}
				// cryptsetup refused it; the prompt is back, empty, with
				// the retry line.
				return frames.await(m, "retry", -1, pw(0, true), false, 60*time.Second)
			},
			"type right": func(ctx context.Context, m *Machine) error {
				if err := typeKeys(m, right); err != nil {
					return err
				}
				if err := frames.await(m, "right typed", -1, pw(len(right), true), false, 60*time.Second); err != nil {
					return err
				}
				enter = m.GuestUptime(time.Now())
				return typeKeys(m, "\n")
			},
		},
	}
	rep := bootChecked(t, ctx, cfg)
	sum := sha256.Sum256(payload[:check])
	want := fmt.Sprintf("sha256 %x\nfirst line %q\n", sum, "bootsplash LUKS2 test volume")
	if got := string(rep.Step("read back").Output); got != want {
		t.Errorf("/dev/mapper/root reads back\n%s\nwant the payload written before encryption:\n%s", got, want)
	}
	if got := string(rep.Step("read back again").Output); got != want {
		t.Errorf("after cryptroot, /dev/mapper/root reads back\n%s\nwant the payload written before encryption:\n%s", got, want)
	}
	if cr := string(rep.Step("cryptroot").Output); !strings.Contains(cr, "No key available with this passphrase") {
		t.Errorf("cryptroot's output does not show cryptsetup refusing the wrong passphrase:\n%s", cr)
	}
	status := string(rep.Step("status").Output)
	for _, w := range []string{"type:    LUKS2", "cipher:  aes-xts-plain64", "device:  /dev/vda"} {
		if !strings.Contains(status, w) {
			t.Errorf("cryptsetup status root does not say %q:\n%s", w, status)
		}
	}
	dump := string(rep.Step("dump").Output)
	for _, w := range []string{"Version:       \t2", "PBKDF:      argon2id", fmt.Sprintf("Memory:     %d", luksKDFMemory)} {
		if !strings.Contains(dump, w) {
			t.Errorf("cryptsetup luksDump /dev/vda does not say %q:\n%s", w, dump)
		}
	}
	// cryptsetup said no to the wrong passphrase: the client ran it
	// twice, and the splash's log holds neither passphrase.
	if u := string(rep.Step("unlock").Output); !strings.Contains(u, "No key available with this passphrase") {
		t.Errorf("the unlock's output does not show cryptsetup refusing the wrong passphrase:\n%s", u)
	}
	run := string(rep.Step("run").Output)
	for _, secret := range []string{wrong, right} {
		if strings.Contains(run, secret) {
			t.Errorf("bootsplash run's log holds a passphrase:\n%s", run)
		}
	}
	if u := rep.Step("unlock"); u.Exited && enter > 0 {
		done := u.Start + u.Duration
		t.Logf("unlock: Enter to cryptsetup done and the client exited: %v (guest clock; the whole question took %v)",
			(done - enter).Round(time.Millisecond), u.Duration.Round(time.Millisecond))
	}
	if u := rep.Step("cryptroot"); u.Exited && crEnter > 0 {
		t.Logf("cryptroot: Enter to the script done (askpass, cryptsetup open, dmsetup): %v (guest clock; the whole script took %v)",
			(u.Start + u.Duration - crEnter).Round(time.Millisecond), u.Duration.Round(time.Millisecond))
	}
	for name, d := range frames.waited {
		t.Logf("%s: the screen matched after %v", name, d.Round(time.Millisecond))
	}
}
