//go:build linux

package uapi

import "strconv"

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
