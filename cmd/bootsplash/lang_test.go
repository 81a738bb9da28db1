package main

import (
	"path/filepath"
	"testing"
)

// TestRenderLang: render --lang draws the splash's own strings in that
// language; without it the locale comes from the environment (LC_ALL,
// then LC_MESSAGES, then LANG), which --lang overrides.
func TestRenderLang(t *testing.T) {
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", "ar_EG.UTF-8")
	dir := t.TempDir()
	png := func(name string, args ...string) string {
		out := filepath.Join(dir, name+".png")
		args = append([]string{"render", "--out", out, "--size", "640x560", "--prompt", "", "--retry"}, args...)
		if _, stderr, err := runArgs(t, args...); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, stderr)
		}
		return out
	}
	ar, env, en, c, zh := png("ar", "--lang", "ar"), png("env"), png("en", "--lang", "en_US.UTF-8"), png("c", "--lang", "C"), png("zh", "--lang", "zh")
	if n := pixelsDiffer(readPNGFile(t, ar), readPNGFile(t, env)); n != 0 {
		t.Errorf("LANG=ar_EG.UTF-8 differs from --lang ar in %d pixels", n)
	}
	if n := pixelsDiffer(readPNGFile(t, en), readPNGFile(t, c)); n != 0 {
		t.Errorf("--lang C differs from --lang en_US.UTF-8 in %d pixels", n)
	}
	for _, o := range []string{en, zh} {
		if n := pixelsDiffer(readPNGFile(t, ar), readPNGFile(t, o)); n < 200 {
			t.Errorf("--lang ar and %s differ in only %d pixels", filepath.Base(o), n)
		}
	}
	t.Setenv("LC_MESSAGES", "zh_CN.UTF-8")
	if n := pixelsDiffer(readPNGFile(t, zh), readPNGFile(t, png("lc-messages"))); n != 0 {
		t.Errorf("LC_MESSAGES=zh_CN.UTF-8 beside LANG=ar_EG.UTF-8 differs from --lang zh in %d pixels", n)
	}
}
