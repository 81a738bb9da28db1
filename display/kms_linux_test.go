package display

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestGuardTurnsFaultsIntoErrors writes into a page mapped without access,
// as a scanout mapping the kernel revoked with its device would be: guard
// returns errDeviceGone naming the address instead of crashing.
func TestGuardTurnsFaultsIntoErrors(t *testing.T) {
	page, err := unix.Mmap(-1, 0, 4096, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(page)
	err = guard(func() error {
		page[100] = 1
		return nil
	})
	if !errors.Is(err, errDeviceGone) || !strings.Contains(err.Error(), "memory fault at 0x") {
		t.Errorf("guard: %v, want errDeviceGone with the address", err)
	}
	// Faults outside guard still crash: the setting is put back.
	if debug.SetPanicOnFault(false) {
		t.Error("guard left SetPanicOnFault on")
	}
}
