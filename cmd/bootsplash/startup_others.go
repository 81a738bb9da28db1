//go:build !linux

package main

import "time"

// beforeMain is unknown off Linux.
func beforeMain() time.Duration { return 0 }
