package devperm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// Node is a device node's type, mode and ownership, as stat sees them.
type Node struct {
	// Path is the node's file name.
	Path string
	// Mode is the node's mode as os.Stat reports it.
	Mode fs.FileMode
	// UID and GID own the node.
	UID, GID uint32
	// ACL says whether the node carries a POSIX access ACL (as logind's
	// uaccess adds), which ls -l marks with a "+".
	ACL bool
	// Err is why the node could not be stat'ed; the other fields are
	// zero then.
	Err error
}

// Stat describes the node at path.
func Stat(path string) Node {
	n := Node{Path: path}
	fi, err := os.Stat(path)
	if err != nil {
		n.Err = err
		return n
	}
	n.Mode = fi.Mode()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.UID, n.GID = st.Uid, st.Gid
	}
	n.ACL = hasACL(path)
	return n
}

// LsMode is the mode the way ls -l writes it: "crw-rw----", with a
// trailing "+" when an ACL grants more.
func (n Node) LsMode() string {
	m := n.Mode
	t := "-"
	switch {
	case m&fs.ModeCharDevice != 0:
		t = "c"
	case m&fs.ModeDevice != 0:
		t = "b"
	case m.IsDir():
		t = "d"
	case m&fs.ModeNamedPipe != 0:
		t = "p"
	case m&fs.ModeSocket != 0:
		t = "s"
	}
	s := t + m.Perm().String()[1:]
	if n.ACL {
		s += "+"
	}
	return s
}

// Owner is "user:group" by name where the names are known, by number
// otherwise ("root:video", "0:44").
func (n Node) Owner() string {
	return userName(n.UID) + ":" + groupName(n.GID)
}

// String is the node as ls -l shows it: "crw-rw---- root:video", or why it
// could not be stat'ed.
func (n Node) String() string {
	if n.Err != nil {
		return "unknown mode and owner (" + n.Err.Error() + ")"
	}
	return n.LsMode() + " " + n.Owner()
}

// userName names uid from the user database, or by number; uid 0 is
// "root" even where there is no /etc/passwd (an initramfs).
func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10)); err == nil {
		return u.Username
	}
	if uid == 0 {
		return "root"
	}
	return strconv.FormatUint(uint64(uid), 10)
}

// groupName names gid from the group database, or by number; gid 0 is
// "root" even where there is no /etc/group.
func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(gid), 10)); err == nil {
		return g.Name
	}
	if gid == 0 {
		return "root"
	}
	return strconv.FormatUint(uint64(gid), 10)
}

// Denied reports whether err is the kernel refusing access: EACCES or
// EPERM.
func Denied(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// Access is the access an open asks for.
type Access int

// The kinds of access.
const (
	// Read is O_RDONLY.
	Read Access = iota + 1
	// ReadWrite is O_RDWR.
	ReadWrite
)

// String returns "read" or "read-write".
func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case ReadWrite:
		return "read-write"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// modeBits are the permission bits access a needs in one rwx triplet.
func (a Access) modeBits() fs.FileMode {
	if a == ReadWrite {
		return 0o6
	}
	return 0o4
}

// Need says what a caller needed of a node, for Explain.
type Need struct {
	// Access is what the open asked for.
	Access Access
	// For says what the access is for, as a phrase that can follow
	// "needs": "allocating a dma-buf".
	For string
	// Why, if not "", explains the need further ("mode setting ... is
	// not available on the render node").
	Why string
	// Seat says whether logind grants the node to the user of the active
	// session on the seat (udev's "uaccess" tag, as for DRM card nodes).
	Seat bool
	// Rule is an example udev rule that gives a group access.
	Rule string
}

// Cred is who a process is, as the permission check sees it.
type Cred struct {
	UID, GID uint32
	// Groups are the supplementary groups.
	Groups []uint32
}

// Self is this process's effective credentials.
func Self() Cred {
	c := Cred{UID: uint32(os.Geteuid()), GID: uint32(os.Getegid())}
	gs, _ := os.Getgroups()
	for _, g := range gs {
		c.Groups = append(c.Groups, uint32(g))
	}
	return c
}

// String is "uid 1000 gid 1000 (groups 24,44)".
func (c Cred) String() string {
	s := fmt.Sprintf("uid %d gid %d", c.UID, c.GID)
	var gs []string
	for _, g := range c.Groups {
		if g != c.GID {
			gs = append(gs, strconv.FormatUint(uint64(g), 10))
		}
	}
	if len(gs) > 0 {
		s += " (groups " + strings.Join(gs, ",") + ")"
	}
	return s
}

// Explain says, for an error message, why this process was refused the node
// at path: the node as ls -l shows it, who the process is, what it needed,
// and how to be granted it.
func Explain(path string, need Need) string {
	return explain(Stat(path), Self(), need)
}

func explain(n Node, who Cred, need Need) string {
	var b strings.Builder
	if n.Err != nil {
		fmt.Fprintf(&b, "the node's mode and owner are unknown (%v) and this process runs as %s; ", n.Err, who)
	} else {
		fmt.Fprintf(&b, "the node is %s and this process runs as %s; ", n, who)
	}
	if need.For != "" {
		fmt.Fprintf(&b, "%s needs %s access to %s", need.For, need.Access, n.Path)
	} else {
		fmt.Fprintf(&b, "%s access to %s is needed", need.Access, n.Path)
	}
	if need.Why != "" {
		b.WriteString(" (" + need.Why + ")")
	}
	if who.UID == 0 {
		// Mode bits do not stop root (CAP_DAC_OVERRIDE): something else did.
		b.WriteString("; root was refused, so a security module (SELinux, AppArmor) or a user namespace without the capability denied it")
		return b.String()
	}
	ways := []string{"run as root"}
	if n.Err == nil && n.GID != 0 && (n.Mode.Perm()>>3)&need.Access.modeBits() == need.Access.modeBits() {
		ways = append(ways, "add the user to group "+groupName(n.GID))
	}
	if need.Seat {
		ways = append(ways, `log in on the seat, where logind grants the session's user an ACL (udev TAG+="uaccess")`)
	}
	if need.Rule != "" {
		ways = append(ways, "add a udev rule such as "+need.Rule)
	}
	b.WriteString("; to get it, ")
	for i, w := range ways {
		switch {
		case i == 0:
		case i == len(ways)-1:
			b.WriteString(", or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(w)
	}
	return b.String()
}

// Check reports whether this process may open path with access a, by the
// kernel's own check (faccessat with the effective ids, ACLs and
// capabilities included), without opening it. The error is nil, or the
// kernel's refusal or why the node is missing.
func Check(path string, a Access) error {
	return check(path, a)
}
