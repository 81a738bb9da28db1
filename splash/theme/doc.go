// Package theme is the model of a bootsplash theme: the theme file (TOML)
// parsed and checked, with every mistake placed by file, line and key;
// the images it names, decoded at load within a pixel budget and scaled
// and converted to a framebuffer format once per size; and its fonts,
// parsed when text is first drawn. The splash package lays a theme out
// on an output and draws it.
//
// No kernel idea stands behind this package: a theme is a user-facing
// format. It is modelled on Plymouth's theme files (a .plymouth key file
// naming a script or a two-step theme and its images) and on psplash's
// compiled-in colours and image, made into one declarative file: every
// key is optional and has a default, lengths are pixels at scale 1 as
// Plymouth's device scale multiplies them, and a resolution override
// replaces keys on a screen of one size. docs/themes.md describes every
// key.
package theme

//go:generate go run ../internal/mklogo -o assets/logo.png
