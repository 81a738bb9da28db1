package client

import (
	"path/filepath"
	"slices"
	"testing"
)

// Cards lists what a glob of CardPattern does, in the same order (in the
// VM guests: card0, or card0 and card1 with a second device).
func TestCardsIsTheGlob(t *testing.T) {
	want, err := filepath.Glob(CardPattern)
	if err != nil {
		t.Fatal(err)
	}
	if got := Cards(); !slices.Equal(got, want) {
		t.Errorf("Cards() = %q, want %q as the glob %s gives them", got, want, CardPattern)
	}
}
