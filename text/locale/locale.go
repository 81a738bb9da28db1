// Package locale picks the language of the splash's own strings and
// looks them up in its message catalogues: the role gettext and the
// LANG that systemd and Plymouth take from the kernel command line and
// /etc/locale.conf play in an initramfs. Catalogues are compiled in,
// because an initramfs carries no locale data.
package locale

import (
	"bufio"
	"bytes"
	"os"
	"strings"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// Key names one of the splash's own strings.
type Key string

// The splash's own strings.
const (
	// Details is the hint that Esc shows the boot messages.
	Details Key = "details"
	// Password is the default prompt for a passphrase.
	Password Key = "password"
	// Retry is said when an answer was refused.
	Retry Key = "retry"
	// CapsLock warns that Caps Lock is on while typing a passphrase.
	CapsLock Key = "capslock"
	// SecureBootOff warns that the firmware does not enforce Secure Boot.
	SecureBootOff Key = "secureboot-off"
)

// Sources are where the locale may be given, in the order Detect tries
// them.
type Sources struct {
	// Getenv reads the environment (os.Getenv); nil is none.
	Getenv func(string) string
	// Cmdline is the kernel command line (/proc/cmdline), where
	// locale.LANG= and locale.LC_MESSAGES= set the locale as systemd
	// reads them.
	Cmdline string
	// LocaleConf is /etc/locale.conf (KEY=value lines, as systemd and
	// an initramfs built by dracut have it).
	LocaleConf []byte
}

// Detect returns the locale for messages: from the environment
// (LC_ALL, LC_MESSAGES, LANG, as setlocale does), else from the kernel
// command line (locale.LC_MESSAGES=, locale.LANG=), else from
// /etc/locale.conf (LC_MESSAGES=, LANG=); "" when none says.
// "C" and "POSIX" count as unset.
func Detect(src Sources) string {
	ok := func(v string) bool { return v != "" && v != "C" && v != "POSIX" && !strings.HasPrefix(v, "C.") }
	if src.Getenv != nil {
		for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
			if v := src.Getenv(k); ok(v) {
				return v
			}
		}
	}
	cmd := map[string]string{}
	for _, f := range strings.Fields(src.Cmdline) {
		if k, v, found := strings.Cut(f, "="); found && strings.HasPrefix(k, "locale.") {
			cmd[strings.TrimPrefix(k, "locale.")] = strings.Trim(v, `"`)
		}
	}
	conf := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(src.LocaleConf))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, found := strings.Cut(line, "="); found {
			conf[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	for _, m := range []map[string]string{cmd, conf} {
		for _, k := range []string{"LC_MESSAGES", "LANG"} {
			if v := m[k]; ok(v) {
				return v
			}
		}
	}
	return ""
}

// Catalogue is the splash's strings in one language.
type Catalogue struct {
	// Lang is the catalogue's language tag ("fr", "zh_CN").
	Lang string
	// RTL says the language is written right to left.
	RTL  bool
	msgs map[Key]string
}

// For returns the catalogue for a locale such as "fr_FR.UTF-8" or
// "zh_CN": the language with its territory if there is one
// (zh_TW), else the language (fr), else English. Strings are looked up
// as Get says.
func For(loc string) *Catalogue {
	loc, _, _ = strings.Cut(loc, ".")
	loc, _, _ = strings.Cut(loc, "@")
	loc = strings.ReplaceAll(loc, "-", "_")
	if c := catalogues()[loc]; c != nil {
		return c
	}
	lang, _, _ := strings.Cut(loc, "_")
	lang = strings.ToLower(lang)
	if lang == "zh" {
		// Chinese without a known territory is Simplified Chinese, as
		// gettext's fallbacks have it.
		return catalogues()["zh_CN"]
	}
	if c := catalogues()[lang]; c != nil {
		return c
	}
	return catalogues()["en"]
}

// Get returns the string for k, in English when the catalogue lacks it.
func (c *Catalogue) Get(k Key) string {
	if s, ok := c.msgs[k]; ok {
		return s
	}
	return catalogues()["en"].msgs[k]
}

// Languages returns the tags of the catalogues compiled in.
func Languages() []string {
	out := make([]string, 0, len(catalogues()))
	for k := range catalogues() {
		out = append(out, k)
	}
	return out
}

// System returns the locale Detect finds for this process: its
// environment, /proc/cmdline and /etc/locale.conf.
func System() string {
	cmdline, _ := readSmall("/proc/cmdline")
	conf, _ := readSmall("/etc/locale.conf")
	return Detect(Sources{Getenv: os.Getenv, Cmdline: string(cmdline), LocaleConf: conf})
}

// readSmall reads a regular file of at most 64 KiB: a FIFO or a device
// node at the path is refused, never waited on, as every file bootsplash
// reads at start-up.
func readSmall(path string) ([]byte, error) {
	return regfile.ReadFile(path, 64<<10, "locale file")
}
