// Package text lays out and draws lines of text in any script: it mirrors
// the part Pango plays for Plymouth's label plugin (and fbcon's font code
// plays for the kernel console, without its one-cell-per-character rule).
// A string is split by the Unicode bidi algorithm and by script, each run
// takes the first font that has its characters (the theme's list, then
// the system's fonts, then the embedded font), runs are shaped by a
// HarfBuzz port, lines are broken by the Unicode line-breaking rules and
// shortened with an ellipsis, and the shaped glyphs are drawn on an
// fbemu.Surface through its mask path, from a cache of glyph masks.
//
// Shaping, bidi, line breaking and the font scan come from
// github.com/go-text/typesetting (v0.3.x), the pure-Go HarfBuzz port that
// Gio and Fyne share. It was chosen over the alternatives because it is
// the only maintained pure-Go shaper (there is no cgo in the default
// build), it keeps HarfBuzz's structure and test suite (so its output can
// be checked against hb-shape, which this package's tests do), and it
// carries the pieces a shaper needs alongside (UAX #9, UAX #14). Its
// font scan (fontscan) is not used: its family-substitution and language
// tables are built by package init, 0.3 ms and 3,000 allocations at every
// start of the program, text or no text, and it parses fontconfig's XML;
// the system's fonts are indexed here instead (fontindex.go: the name,
// OS/2 and cmap tables of each face, kept on disk and read again only for
// files whose size or time changed), which also makes the binary 0.25 MiB
// smaller. Its costs: its API still moves between
// minor versions (Glyph.XAdvance and ClusterIndex are already deprecated
// for Advance and TextIndex; this package reads the shaper's output in
// one place, shape.go's flatten), it adds 2.7 MiB to the stripped static
// amd64 binary (5.3 to 8.0 MiB, mostly OpenType table parsers and
// HarfBuzz's shapers), and laying out a 60-character line costs
// 50-130 µs where drawing it on the splash's Latin path costs about
// 15 µs (BenchmarkLine; laid-out lines are cached, and drawing a cached
// line costs about what the Latin path does). The splash therefore keeps
// its x/image path for Latin, Greek and Cyrillic text in its own font and
// comes here only for text that needs shaping or other fonts.
package text
