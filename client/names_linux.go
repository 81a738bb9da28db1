package client

import "github.com/bootsplash/bootsplash/internal/uapi"

// The fourcc and modifier names come from the generated kernel headers.

func formatName(c uint32) string           { return uapi.FormatName(c) }
func formatByName(s string) (uint32, bool) { return uapi.FormatByName(s) }
func modifierName(m uint64) string         { return uapi.ModifierName(m) }
func modifierVendorName(v uint8) string    { return uapi.ModifierVendorName(v) }
