//go:build plots

package main

import (
	"os"

	"github.com/bootsplash/bootsplash/internal/study"
)

// readResults reads the results JSON of a study run elsewhere (--from).
func readResults(path string) (*study.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return study.ReadJSON(f)
}
