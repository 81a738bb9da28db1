//go:build !plots

package study

// WritePlots would draw the study's charts into dir; this build has no
// plotting library (gonum/plot adds megabytes to a boot-time binary), so it
// returns ErrNoPlots. Build with -tags plots to get them.
func WritePlots(dir string, r *Result) ([]Plot, error) { return nil, ErrNoPlots }
