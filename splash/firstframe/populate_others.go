//go:build !linux

package firstframe

// mapPopulate is Linux's MAP_POPULATE, which other systems lack: their
// pages fault in as the frame is copied.
const mapPopulate = 0
