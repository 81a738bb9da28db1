// Package study measures the CPU-access trade-offs of the 2018 dri-devel
// thread "drm: Begin an API for in-kernel clients" on the machine it runs
// on: keep a mapping cached (vmap once, begin_access/end_access around each
// frame) or map per access; sync or not (the 2013 "dma-buf non-coherent
// mmap" thread); draw in place or into a shadow copy whose damage is written
// back; guard the mapping outside brackets; or map a DRM dumb buffer as
// drm_client_buffer_vmap does.
//
// Run draws each workload (a full-frame redraw, a progress-bar tick, a
// spinner frame, one line of text) with fbemu's native operations on a
// Surface over the slice an access.Mapping's Begin returns, inside one
// Begin/End bracket per frame, telling the mapping the damaged byte regions.
// Each cell (strategy × workload × size) reports the median and 99th
// percentile frame time, the ioctls and syscalls per frame (from
// access.Mapping.Stats deltas), the minor page faults per frame (getrusage
// of the drawing thread), and the bytes drawn and copied per frame, with the
// median as a ratio to NoSync's at the same workload and size, measured in
// the same run.
//
// A Result prints as a table (WriteTable), JSON (WriteJSON) and CSV
// (WriteCSV); WriteReport writes a Markdown report with the machine and
// kernel, what the numbers say, and the limits of that. Plots (gonum/plot,
// SVG and PNG) are drawn only in binaries built with -tags plots, because
// gonum/plot would add megabytes to a boot-time binary; without the tag
// WritePlots returns ErrNoPlots and the report links the CSV instead.
package study
