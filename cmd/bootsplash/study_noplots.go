//go:build !plots

package main

import (
	"fmt"

	"github.com/bootsplash/bootsplash/internal/study"
)

// readResults is for rendering a run made elsewhere, which is what a build
// with plots is for: decoding JSON would add about 100 KB to the boot-time
// binary.
func readResults(path string) (*study.Result, error) {
	return nil, fmt.Errorf("%w: --from %s: reading results needs a build with -tags plots", errUsage, path)
}
