package display

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/bootsplash/bootsplash/internal/regfile"
)

// EFIDir is where the kernel says it was booted through UEFI: the
// directory exists only on an EFI boot.
const EFIDir = "/sys/firmware/efi"

// EFIVarsDir is where efivarfs, the kernel's view of the firmware's
// variables, is mounted (by systemd, in the initramfs as in the root;
// the kernel itself mounts nothing there).
const EFIVarsDir = EFIDir + "/efivars"

// The variables of the EFI global namespace (UEFI 2.10, 3.3) that say
// whether the firmware enforces Secure Boot. Each file in efivarfs holds
// the variable's 4-byte attributes, then its data: one byte, 1 or 0.
const (
	secureBootVar = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
	setupModeVar  = "SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c"
	// maxEFIVarBytes caps the read of such a variable: it is 5 bytes;
	// anything much longer is not the variable.
	maxEFIVarBytes = 64
)

// SecureBoot is what the firmware says of Secure Boot.
type SecureBoot int

const (
	// SecureBootUnknown: not a UEFI boot (a BIOS, a board's U-Boot
	// without EFI), or efivarfs is not mounted, or the variable could
	// not be read: nothing is known, so nothing is said.
	SecureBootUnknown SecureBoot = iota
	// SecureBootOn: the firmware checks the signatures of what it
	// starts.
	SecureBootOn
	// SecureBootOff: a UEFI boot whose firmware does not enforce Secure
	// Boot: switched off, in setup mode (no platform key enrolled), or
	// not supported at all (no SecureBoot variable).
	SecureBootOff
)

// String reads "on", "off" or "unknown".
func (s SecureBoot) String() string {
	switch s {
	case SecureBootOn:
		return "on"
	case SecureBootOff:
		return "off"
	}
	return "unknown"
}

// ParseSecureBoot reads "on" or "off", as a render is told the state.
func ParseSecureBoot(s string) (SecureBoot, error) {
	switch s {
	case "on":
		return SecureBootOn, nil
	case "off":
		return SecureBootOff, nil
	}
	return SecureBootUnknown, fmt.Errorf("secure boot %q: want on or off", s)
}

// ReadSecureBoot says whether the firmware enforces Secure Boot, from the
// variables in dir, a directory laid out as efivarfs; "" is the system's:
// EFIVarsDir when the system was booted through UEFI and efivarfs is
// mounted there. The splash mounts nothing: without efivarfs the state
// is SecureBootUnknown and the error says why (it wraps os.ErrNotExist,
// as on a machine without UEFI).
//
// SecureBoot = 1 is on. SecureBoot = 0, SetupMode = 1 (no platform key:
// nothing is checked whatever SecureBoot says) or no SecureBoot variable
// on a UEFI boot (a firmware without Secure Boot) is off, as a user
// reads "Secure Boot is off". A variable that is not a regular file, is
// truncated, too long, or holds another value is an error naming it, and
// the state SecureBootUnknown.
func ReadSecureBoot(dir string) (SecureBoot, error) {
	if dir == "" {
		if _, err := os.Stat(EFIDir); err != nil {
			return SecureBootUnknown, fmt.Errorf("secure boot: not a UEFI boot: %w", err)
		}
		if err := isEFIVarFS(EFIVarsDir); err != nil {
			return SecureBootUnknown, fmt.Errorf("secure boot: %w", err)
		}
		dir = EFIVarsDir
	}
	setup, err := readEFIFlag(filepath.Join(dir, setupModeVar))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return SecureBootUnknown, err
	}
	if err == nil && setup {
		return SecureBootOff, nil
	}
	on, err := readEFIFlag(filepath.Join(dir, secureBootVar))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, derr := os.Stat(dir); derr != nil {
			return SecureBootUnknown, fmt.Errorf("secure boot: %w", derr)
		}
		return SecureBootOff, nil
	case err != nil:
		return SecureBootUnknown, err
	case on:
		return SecureBootOn, nil
	}
	return SecureBootOff, nil
}

// readEFIFlag reads a one-byte boolean EFI variable from its efivarfs
// file p.
func readEFIFlag(p string) (bool, error) {
	b, err := regfile.ReadFile(p, maxEFIVarBytes, "efivarfs variable")
	if err != nil {
		return false, fmt.Errorf("secure boot: %w", err)
	}
	if len(b) != 5 {
		return false, fmt.Errorf("secure boot: %s: %d bytes, want 5 (4 of attributes, 1 of data)", p, len(b))
	}
	switch b[4] {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, fmt.Errorf("secure boot: %s: value %d, want 0 or 1", p, b[4])
}
