//go:build plots

package study

import (
	"fmt"
	"path/filepath"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// WritePlots draws the study's charts into dir, each as PNG and SVG: the
// median frame time of every strategy against the frame size, one chart per
// workload, and the median frame time against the damaged area of every
// cell.
func WritePlots(dir string, r *Result) ([]Plot, error) {
	var out []Plot
	strategies := r.strategies()
	sizes := r.sizes()
	for _, w := range Workloads() {
		if !slices.ContainsFunc(r.Cells, func(c Cell) bool { return c.Workload == w }) {
			continue
		}
		p := plot.New()
		title := fmt.Sprintf("Frame time by strategy: %s (%s buffers)", w, r.Source)
		p.Title.Text = title
		p.X.Label.Text = "frame size"
		p.Y.Label.Text = "median frame time (µs, log scale)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		ticks := make([]plot.Tick, len(sizes))
		for i, z := range sizes {
			ticks[i] = plot.Tick{Value: float64(i), Label: z.String()}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.3, float64(len(sizes))-0.7
		p.Legend.Top, p.Legend.Left = true, true
		for i, s := range strategies {
			var xys plotter.XYs
			for j, z := range sizes {
				if c, ok := r.Find(s, w, z); ok && c.Median > 0 {
					xys = append(xys, plotter.XY{X: float64(j), Y: us(c)})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return out, fmt.Errorf("study: plot %s: %w", w, err)
			}
			l.Color, pts.Color, pts.Shape = plotutil.Color(i), plotutil.Color(i), plotutil.Shape(i)
			p.Add(l, pts)
			p.Legend.Add(s.String(), l, pts)
		}
		p.Add(plotter.NewGrid())
		// Room above the lines for the legend (a decade on the log scale).
		p.Y.Max *= 10
		pl, err := save(p, dir, "frame-time-"+w.String(), title)
		if err != nil {
			return out, err
		}
		out = append(out, pl)
	}

	p := plot.New()
	title := fmt.Sprintf("Cost against damaged area (%s buffers)", r.Source)
	p.Title.Text = title
	p.X.Label.Text = "damaged pixels per frame (log scale)"
	p.Y.Label.Text = "median frame time (µs, log scale)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
	// Cost grows with the damage: the bottom right corner stays empty.
	p.Legend.Top, p.Legend.Left = false, false
	for i, s := range strategies {
		var xys plotter.XYs
		for _, c := range r.Cells {
			if c.Strategy == s && c.DamagedArea > 0 && c.Median > 0 {
				xys = append(xys, plotter.XY{X: c.DamagedArea, Y: us(c)})
			}
		}
		if len(xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys)
		if err != nil {
			return out, fmt.Errorf("study: plot damage: %w", err)
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = plotutil.Color(i), plotutil.Shape(i), vg.Points(3)
		p.Add(sc)
		p.Legend.Add(s.String(), sc)
	}
	p.Add(plotter.NewGrid())
	pl, err := save(p, dir, "cost-vs-damage", title)
	if err != nil {
		return out, err
	}
	return append(out, pl), nil
}

// us is a cell's median in microseconds.
func us(c Cell) float64 { return float64(c.Median) / 1e3 }

// save writes p as name.png and name.svg in dir.
func save(p *plot.Plot, dir, name, title string) (Plot, error) {
	pl := Plot{Title: title, PNG: name + ".png", SVG: name + ".svg"}
	for _, f := range []string{pl.PNG, pl.SVG} {
		if err := p.Save(18*vg.Centimeter, 11*vg.Centimeter, filepath.Join(dir, f)); err != nil {
			return pl, fmt.Errorf("study: save plot: %w", err)
		}
	}
	return pl, nil
}
