package firstframe

import "syscall"

// mapPopulate asks mmap to fault the frame's pages in at once, so the copy
// into the scanout buffer takes no page fault per page.
const mapPopulate = syscall.MAP_POPULATE
