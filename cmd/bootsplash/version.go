package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// cmdVersion prints what this binary was built from: the module version,
// the VCS revision and whether the tree had changes not committed, and
// the Go version, as the toolchain recorded them (runtime/debug).
func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Errorf("this binary carries no build information")
	}
	_, err := io.WriteString(stdout, versionText(bi))
	return err
}

// versionText formats build information as --version prints it:
//
//	bootsplash (devel)
//	module: github.com/bootsplash/bootsplash
//	revision: 0fec9db… (modified), committed 2026-12-02T12:00:00Z
//	go: go1.26.8 linux/amd64, CGO_ENABLED=0
//
// A build without VCS information (go install of a module version,
// -buildvcs=false) says "revision: unknown".
func versionText(bi *debug.BuildInfo) string {
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	version := bi.Main.Version
	if version == "" {
		version = "(unknown)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "bootsplash %s\n", version)
	if bi.Main.Path != "" {
		fmt.Fprintf(&b, "module: %s\n", bi.Main.Path)
	}
	rev := settings["vcs.revision"]
	switch {
	case rev == "":
		b.WriteString("revision: unknown (built without VCS information)\n")
	default:
		b.WriteString("revision: " + rev)
		if settings["vcs.modified"] == "true" {
			b.WriteString(" (modified)")
		}
		if t := settings["vcs.time"]; t != "" {
			b.WriteString(", committed " + t)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "go: %s", bi.GoVersion)
	if os, arch := settings["GOOS"], settings["GOARCH"]; os != "" && arch != "" {
		fmt.Fprintf(&b, " %s/%s", os, arch)
	}
	if cgo, ok := settings["CGO_ENABLED"]; ok {
		fmt.Fprintf(&b, ", CGO_ENABLED=%s", cgo)
	}
	b.WriteString("\n")
	return b.String()
}
