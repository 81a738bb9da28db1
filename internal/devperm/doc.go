// Package devperm explains why a device node refused this process, for the
// error a person reads: the node as `ls -l` shows it (mode, owner, group,
// a "+" for an ACL), who the process is, what access it needed and why, and
// the usual ways to be granted it.
//
// It mirrors two ideas. The kernel's permission check on an inode
// (generic_permission: the owner, group and other bits, then POSIX ACLs,
// with CAP_DAC_OVERRIDE letting root through) decides the refusal; udev
// decides the node's group and mode (GROUP=, MODE= in a rule) and, for
// seat devices tagged "uaccess", systemd-logind adds an ACL for the user
// of the active session. devtmpfs alone leaves nodes 0600 root:root.
//
// Both client (DRM card nodes) and access (dma-buf heaps, /dev/udmabuf)
// use it, so that every refusal reads the same way.
package devperm
