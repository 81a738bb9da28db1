package display

import (
	"errors"
	"io/fs"
	"testing"
)

// TestIsEFIVarFS: a directory that is not efivarfs (a temporary one, as
// /sys/firmware/efi/efivars is before anything mounts efivarfs there)
// is not taken for it.
func TestIsEFIVarFS(t *testing.T) {
	if err := isEFIVarFS(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a temporary directory: %v, want an error wrapping fs.ErrNotExist", err)
	}
}
