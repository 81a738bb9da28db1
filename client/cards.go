package client

import "path/filepath"

// CardPattern is where DRM card nodes (primary nodes, which do
// modesetting) are: render nodes are /dev/dri/renderD*.
const CardPattern = "/dev/dri/card*"

// Cards returns the DRM card nodes there are now, in the order of their
// names; none where the kernel has no DRM device or no /dev/dri.
func Cards() []string {
	cards, _ := filepath.Glob(CardPattern)
	return cards
}
