package display

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// efiVar is an efivarfs file: the attributes (non-volatile, boot and
// runtime access: 7) then the data.
func efiVar(data ...byte) []byte { return append([]byte{7, 0, 0, 0}, data...) }

// efivars writes a directory laid out as efivarfs with the given
// SecureBoot and SetupMode files (nil: absent).
func efivars(t *testing.T, secureBoot, setupMode []byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range map[string][]byte{secureBootVar: secureBoot, setupModeVar: setupMode} {
		if b != nil {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestReadSecureBoot(t *testing.T) {
	for _, c := range []struct {
		name              string
		secureBoot, setup []byte
		want              SecureBoot
	}{
		{"on", efiVar(1), efiVar(0), SecureBootOn},
		{"on, no SetupMode", efiVar(1), nil, SecureBootOn},
		{"off", efiVar(0), efiVar(0), SecureBootOff},
		{"setup mode", efiVar(0), efiVar(1), SecureBootOff},
		// SetupMode = 1 means no platform key: nothing is checked.
		{"setup mode says on", efiVar(1), efiVar(1), SecureBootOff},
		{"no SecureBoot variable: a firmware without it", nil, efiVar(0), SecureBootOff},
		{"no variables at all", nil, nil, SecureBootOff},
	} {
		got, err := ReadSecureBoot(efivars(t, c.secureBoot, c.setup))
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

// TestReadSecureBootRefuses: a variable truncated, too long, with another
// value, or not a regular file is an error naming it, and the state
// unknown; a directory that does not exist is not a UEFI boot.
func TestReadSecureBootRefuses(t *testing.T) {
	for _, c := range []struct {
		name              string
		secureBoot, setup []byte
		want              string
	}{
		{"truncated", efiVar(), nil, "4 bytes, want 5"},
		{"attributes only in part", []byte{7, 0}, nil, "2 bytes, want 5"},
		{"empty", []byte{}, nil, "0 bytes, want 5"},
		{"two bytes of data", efiVar(1, 0), nil, "6 bytes, want 5"},
		{"oversized", efiVar(make([]byte, maxEFIVarBytes)...), nil, "cap on an efivarfs variable"},
		{"value 2", efiVar(2), nil, "value 2, want 0 or 1"},
		{"SetupMode truncated", efiVar(0), efiVar(), "SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c: 4 bytes"},
	} {
		got, err := ReadSecureBoot(efivars(t, c.secureBoot, c.setup))
		if err == nil || got != SecureBootUnknown || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, %v; want unknown and an error saying %q", c.name, got, err, c.want)
		}
		if err != nil && !strings.Contains(err.Error(), "-8be4df61-93ca-11d2-aa0d-00e098032b8c") {
			t.Errorf("%s: the error does not name the variable: %v", c.name, err)
		}
	}
	var tl *regfile.TooLargeError
	if _, err := ReadSecureBoot(efivars(t, efiVar(make([]byte, 100)...), nil)); !errors.As(err, &tl) {
		t.Errorf("an oversized variable: %v, want a TooLargeError", err)
	}
	got, err := ReadSecureBoot(filepath.Join(t.TempDir(), "none"))
	if got != SecureBootUnknown || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("no efivars directory: %v, %v; want unknown and an error wrapping fs.ErrNotExist", got, err)
	}
}

// TestReadSecureBootFIFO: a FIFO where the variable should be is refused
// at once, never waited on.
func TestReadSecureBootFIFO(t *testing.T) {
	dir := t.TempDir()
	if err := mkfifo(filepath.Join(dir, secureBootVar)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadSecureBoot(dir); done <- err }()
	select {
	case err := <-done:
		var nr *regfile.NotRegularError
		if !errors.As(err, &nr) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("a FIFO: %v, want an error saying it is a FIFO", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadSecureBoot waits on a FIFO")
	}
}

func TestParseSecureBoot(t *testing.T) {
	for s, want := range map[string]SecureBoot{"on": SecureBootOn, "off": SecureBootOff} {
		if got, err := ParseSecureBoot(s); err != nil || got != want || got.String() != s {
			t.Errorf("%q: %v, %v", s, got, err)
		}
	}
	if _, err := ParseSecureBoot("yes"); err == nil {
		t.Error(`"yes" is taken`)
	}
}
