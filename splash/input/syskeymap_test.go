package input

import (
	"strings"
	"testing"
)

// TestSystemKeymap: the layout comes from the command line first, then
// vconsole.conf, then /etc/default/keyboard; console keymap names are
// matched by their language; what is not built in is passed over and
// said; nothing configured is us.
func TestSystemKeymap(t *testing.T) {
	for _, c := range []struct {
		name   string
		src    KeymapSources
		want   string
		whyHas string
	}{
		{"nothing", KeymapSources{}, "us", "no keymap configured"},
		{"cmdline wins", KeymapSources{Cmdline: "quiet rd.vconsole.keymap=de-latin1-nodeadkeys splash", VconsoleConf: []byte("KEYMAP=fr\n")}, "de", "rd.vconsole.keymap=de-latin1-nodeadkeys"},
		{"plain vconsole.keymap", KeymapSources{Cmdline: "vconsole.keymap=fr-pc"}, "fr", "vconsole.keymap=fr-pc"},
		{"vconsole.conf", KeymapSources{VconsoleConf: []byte("# comment\nFONT=eurlatgr\nKEYMAP=\"de\"\n"), Keyboard: []byte("XKBLAYOUT=\"fr\"\n")}, "de", "vconsole.conf KEYMAP=de"},
		{"debian keyboard", KeymapSources{Keyboard: []byte("XKBMODEL=\"pc105\"\nXKBLAYOUT=\"fr,us\"\nXKBVARIANT=\"\"\n")}, "fr", "XKBLAYOUT=fr"},
		{"not built in, then built in", KeymapSources{Cmdline: "rd.vconsole.keymap=sv-latin1", Keyboard: []byte("XKBLAYOUT=de\n")}, "de", "XKBLAYOUT=de"},
		{"nothing built in", KeymapSources{VconsoleConf: []byte("KEYMAP=sv-latin1\n")}, "us", "passed over: /etc/vconsole.conf KEYMAP=sv-latin1 (not built in)"},
		{"last assignment wins", KeymapSources{VconsoleConf: []byte("KEYMAP=fr\nKEYMAP=de # later\n")}, "de", "KEYMAP=de"},
	} {
		got, why := SystemKeymap(c.src)
		if got != c.want || !strings.Contains(why, c.whyHas) {
			t.Errorf("%s: %q (%s), want %q with a reason saying %q", c.name, got, why, c.want, c.whyHas)
		}
		if _, err := ParseLayout(got); err != nil {
			t.Errorf("%s: %q is not a built-in layout: %v", c.name, got, err)
		}
	}
}
