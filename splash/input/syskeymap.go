package input

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// KeymapSources are where the system says which keyboard layout it uses,
// in the order SystemKeymap reads them: the kernel command line (what an
// initramfs built by dracut or systemd takes), then systemd's
// /etc/vconsole.conf, then Debian's /etc/default/keyboard (console-setup).
type KeymapSources struct {
	Cmdline      string // /proc/cmdline
	VconsoleConf []byte // /etc/vconsole.conf
	Keyboard     []byte // /etc/default/keyboard
}

// SystemKeymap names the built-in layout for what the system configured,
// and where it found it: rd.vconsole.keymap= or vconsole.keymap= on the
// command line, KEYMAP= in vconsole.conf, XKBLAYOUT= in
// /etc/default/keyboard (its first layout). A console keymap name is
// matched by its language part ("de-latin1-nodeadkeys" is de, "fr-pc" is
// fr). A setting whose layout is not built in is passed over, and "us"
// is the answer when nothing matches, with the reason saying so.
func SystemKeymap(src KeymapSources) (name, why string) {
	var seen []string
	try := func(value, where string) bool {
		if value == "" {
			return false
		}
		if l := layoutFor(value); l != "" {
			name, why = l, where+"="+value
			return true
		}
		seen = append(seen, where+"="+value+" (not built in)")
		return false
	}
	for _, f := range strings.Fields(src.Cmdline) {
		k, v, _ := strings.Cut(f, "=")
		if (k == "rd.vconsole.keymap" || k == "vconsole.keymap") && try(v, k) {
			return name, why
		}
	}
	if try(shellVar(src.VconsoleConf, "KEYMAP"), "/etc/vconsole.conf KEYMAP") {
		return name, why
	}
	first, _, _ := strings.Cut(shellVar(src.Keyboard, "XKBLAYOUT"), ",")
	if try(first, "/etc/default/keyboard XKBLAYOUT") {
		return name, why
	}
	if len(seen) > 0 {
		return "us", "the default; passed over: " + strings.Join(seen, ", ")
	}
	return "us", "the default: no keymap configured"
}

// ReadKeymapSources reads the files SystemKeymap looks at, each only as a
// small regular file; a missing or refused one counts as empty.
func ReadKeymapSources() KeymapSources {
	read := func(p string) []byte {
		b, err := regfile.ReadFile(p, 64<<10, "keyboard configuration")
		if err != nil {
			return nil
		}
		return b
	}
	return KeymapSources{Cmdline: string(read("/proc/cmdline")), VconsoleConf: read("/etc/vconsole.conf"), Keyboard: read("/etc/default/keyboard")}
}

// layoutFor maps a console keymap or XKB layout name to a built-in
// layout, or "".
func layoutFor(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	lang, _, _ := strings.Cut(v, "-")
	switch lang {
	case "us", "en":
		return "us"
	case "de":
		return "de"
	case "fr":
		return "fr"
	}
	return ""
}

// shellVar is the value of NAME=value in a shell-style file (quotes
// removed; the last assignment wins, as when the shell sources it).
func shellVar(b []byte, name string) string {
	var v string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, val, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != name {
			continue
		}
		val = strings.TrimSpace(val)
		if i := strings.Index(val, " #"); i >= 0 {
			val = strings.TrimSpace(val[:i])
		}
		v = strings.Trim(val, `"'`)
	}
	return v
}
