//go:build !linux

package client

import "path/filepath"

// Cards returns the DRM card nodes there are now, in the order of their
// names; none where the kernel has no DRM device or no /dev/dri.
func Cards() []string {
	cards, _ := filepath.Glob(CardPattern)
	return cards
}
