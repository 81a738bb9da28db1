package firstframe

import (
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"path/filepath"
	"sort"
	"sync"

	"github.com/bootsplash/bootsplash/internal/regfile"
	"github.com/bootsplash/bootsplash/splash/theme"
)

// Input is a file a theme's first frame is drawn from, or a spinner's
// frame pattern, as it was when the frame was drawn.
type Input struct {
	// Path is absolute: a file, or with Glob a pattern.
	Path string
	// Glob says Path is a pattern: the files it matches (their names, in
	// order) are what counts.
	Glob bool
	// Size is the file's length in bytes, or the number of names the
	// pattern matched.
	Size int64
	// Sum is the CRC-64 (ECMA) of the file's bytes, or of the names
	// matched, each followed by a NUL.
	Sum uint64
}

// ErrFirmwareLogo is why a theme that draws the firmware's logo gets no
// frame drawn ahead of time: the logo is the firmware's, read at boot.
var ErrFirmwareLogo = errors.New("the theme draws the firmware's logo (ACPI BGRT), which is read at boot: its first frame cannot be drawn ahead of time")

// ErrSecureBootLine is why a theme with a [secure_boot] line gets no
// frame drawn ahead of time: whether the line is drawn is the firmware's
// Secure Boot state at boot.
var ErrSecureBootLine = errors.New("the theme has a [secure_boot] line, drawn or not by the firmware's state at boot: its first frame cannot be drawn ahead of time")

// crcTable is made when a theme's inputs are first summed, not at init:
// making it builds 32 KB of tables, and the embedded theme's first frame
// sums nothing.
var crcTable = sync.OnceValue(func() *crc64.Table { return crc64.MakeTable(crc64.ECMA) })

// ThemeInputs returns the inputs of th's first frame (none for the
// embedded theme), each summed as it is now.
func ThemeInputs(th *theme.Theme) ([]Input, error) {
	in, err := th.FirstFrameInputs()
	if err != nil {
		return nil, err
	}
	if in.FirmwareLogo {
		return nil, ErrFirmwareLogo
	}
	if in.SecureBootLine {
		return nil, ErrSecureBootLine
	}
	var out []Input
	for _, f := range in.Files {
		i, err := sumFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	for _, g := range in.Globs {
		i, err := sumGlob(g)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}

// sumFile reads the regular file at path (at most theme.MaxImageBytes)
// and sums it.
func sumFile(path string) (Input, error) {
	f, size, err := regfile.Open(path, theme.MaxImageBytes, "theme file")
	if err != nil {
		return Input{}, err
	}
	defer f.Close()
	h := crc64.New(crcTable())
	n, err := io.Copy(h, io.LimitReader(f, theme.MaxImageBytes+1))
	if err != nil {
		return Input{}, fmt.Errorf("read %s: %w", path, err)
	}
	if n != size {
		return Input{}, fmt.Errorf("%s: changed while it was read (%d bytes, then %d)", path, size, n)
	}
	return Input{Path: path, Size: n, Sum: h.Sum64()}, nil
}

// sumGlob sums the names pattern matches, in order.
func sumGlob(pattern string) (Input, error) {
	names, err := filepath.Glob(pattern)
	if err != nil {
		return Input{}, fmt.Errorf("bad pattern %q: %w", pattern, err)
	}
	sort.Strings(names)
	h := crc64.New(crcTable())
	for _, n := range names {
		io.WriteString(h, n)
		h.Write([]byte{0})
	}
	return Input{Path: pattern, Glob: true, Size: int64(len(names)), Sum: h.Sum64()}, nil
}

// checkInputs says which of a frame's inputs is no longer what it was
// when the frame was drawn (nil: none). Each is read and summed again:
// a theme copied into an initramfs keeps its bytes, not its inode or
// (in cpio's seconds) its time of change.
func checkInputs(ins []Input) error {
	for _, want := range ins {
		var got Input
		var err error
		if want.Glob {
			got, err = sumGlob(want.Path)
		} else {
			got, err = sumFile(want.Path)
		}
		switch {
		case err != nil:
			return fmt.Errorf("the theme's %s: %w", inputKind(want), err)
		case got.Size != want.Size && want.Glob:
			return fmt.Errorf("the theme's spinner frames %s: %d files match, %d did when the frame was drawn (run bootsplash prerender again)", want.Path, got.Size, want.Size)
		case got.Size != want.Size:
			return fmt.Errorf("the theme's file %s: %d bytes, %d when the frame was drawn (run bootsplash prerender again)", want.Path, got.Size, want.Size)
		case got.Sum != want.Sum:
			return fmt.Errorf("the theme's %s %s changed since the frame was drawn (run bootsplash prerender again)", inputKind(want), want.Path)
		}
	}
	return nil
}

func inputKind(in Input) string {
	if in.Glob {
		return "spinner frames"
	}
	return "file"
}
