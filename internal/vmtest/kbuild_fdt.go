package vmtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// The flattened device tree (DTB) format, as the kernel's scripts/dtc and
// libfdt write and read it: a header, a structure block of 32-bit tokens and
// a strings block holding property names.
const (
	fdtMagic     = 0xd00dfeed
	fdtBeginNode = 1
	fdtEndNode   = 2
	fdtProp      = 3
	fdtNop       = 4
	fdtEnd       = 9
)

// DTBFixup is one edit of a device tree blob: the node at Path is deleted,
// or only its property Property when that is set. Path is the node's full
// path ("/bus@40000000/.../port@1"). A fix-up whose node or property is not
// in the blob is an error: the blob is not the one the fix-up was written for.
type DTBFixup struct {
	Path     string
	Property string
	// Why says what the edit is for; it is part of the cache key.
	Why string
}

func (f DTBFixup) String() string {
	if f.Property != "" {
		return "delete property " + f.Property + " of " + f.Path
	}
	return "delete node " + f.Path
}

// fdtItem is a node or property found in the structure block: the byte
// range [start, end) of its tokens.
type fdtItem struct {
	path, prop string
	start, end int
}

// fdtStructure checks the header and returns the structure block's bounds
// and the strings block.
func fdtStructure(dtb []byte) (structOff, structEnd int, strs []byte, err error) {
	if len(dtb) < 40 {
		return 0, 0, nil, errors.New("dtb: shorter than its header")
	}
	be := binary.BigEndian
	if be.Uint32(dtb[0:]) != fdtMagic {
		return 0, 0, nil, errors.New("dtb: bad magic (not a flattened device tree)")
	}
	total := int(be.Uint32(dtb[4:]))
	offStruct := int(be.Uint32(dtb[8:]))
	offStrings := int(be.Uint32(dtb[12:]))
	version := be.Uint32(dtb[20:])
	sizeStrings := int(be.Uint32(dtb[32:]))
	sizeStruct := int(be.Uint32(dtb[36:]))
	if version < 17 {
		return 0, 0, nil, fmt.Errorf("dtb: version %d, want 17", version)
	}
	if total > len(dtb) || offStruct < 0 || sizeStruct < 0 || offStruct+sizeStruct > total ||
		offStrings < 0 || sizeStrings < 0 || offStrings+sizeStrings > total {
		return 0, 0, nil, errors.New("dtb: blocks outside the blob")
	}
	return offStruct, offStruct + sizeStruct, dtb[offStrings : offStrings+sizeStrings], nil
}

// fdtWalk lists every node and property of the blob in order.
func fdtWalk(dtb []byte) ([]fdtItem, error) {
	off, end, strs, err := fdtStructure(dtb)
	if err != nil {
		return nil, err
	}
	be := binary.BigEndian
	var items []fdtItem
	var stack []int // indexes into items of the open nodes
	var names []string
	align := func(n int) int { return (n + 3) &^ 3 }
	for off < end {
		if off+4 > end {
			return nil, errors.New("dtb: structure block truncated")
		}
		tok := be.Uint32(dtb[off:])
		start := off
		off += 4
		switch tok {
		case fdtBeginNode:
			n := strings.IndexByte(string(dtb[off:end]), 0)
			if n < 0 {
				return nil, errors.New("dtb: unterminated node name")
			}
			name := string(dtb[off : off+n])
			off = align(off + n + 1)
			names = append(names, name)
			p := "/" + strings.Join(names[1:], "/")
			items = append(items, fdtItem{path: p, start: start})
			stack = append(stack, len(items)-1)
		case fdtEndNode:
			if len(stack) == 0 {
				return nil, errors.New("dtb: unbalanced end of node")
			}
			items[stack[len(stack)-1]].end = off
			stack = stack[:len(stack)-1]
			names = names[:len(names)-1]
		case fdtProp:
			if off+8 > end || len(stack) == 0 {
				return nil, errors.New("dtb: property outside a node or truncated")
			}
			l := int(be.Uint32(dtb[off:]))
			nameOff := int(be.Uint32(dtb[off+4:]))
			off += 8
			if l < 0 || off+l > end || nameOff < 0 || nameOff >= len(strs) {
				return nil, errors.New("dtb: property runs past its block")
			}
			n := strings.IndexByte(string(strs[nameOff:]), 0)
			if n < 0 {
				return nil, errors.New("dtb: unterminated property name")
			}
			off = align(off + l)
			items = append(items, fdtItem{path: items[stack[len(stack)-1]].path, prop: string(strs[nameOff : nameOff+n]), start: start, end: off})
		case fdtNop:
		case fdtEnd:
			if len(stack) != 0 {
				return nil, errors.New("dtb: end inside a node")
			}
			return items, nil
		default:
			return nil, fmt.Errorf("dtb: unknown token %#x at %d", tok, start)
		}
	}
	return nil, errors.New("dtb: no end token")
}

// ApplyDTBFixups returns a copy of the blob with the fix-ups applied: the
// tokens of a deleted node or property are cut out of the structure block
// and the header's offsets and sizes follow, as libfdt's fdt_del_node does.
func ApplyDTBFixups(dtb []byte, fixups []DTBFixup) ([]byte, error) {
	out := append([]byte(nil), dtb...)
	for _, f := range fixups {
		items, err := fdtWalk(out)
		if err != nil {
			return nil, err
		}
		found := false
		for _, it := range items {
			if it.path == f.Path && it.prop == f.Property {
				out = fdtCut(out, it.start, it.end)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("dtb fix-up %q: no such %s in the device tree", f.String(), map[bool]string{true: "property", false: "node"}[f.Property != ""])
		}
	}
	return out, nil
}

// DTBHas reports whether the blob has the node at path (prop empty) or
// that node's property prop.
func DTBHas(dtb []byte, path, prop string) (bool, error) {
	items, err := fdtWalk(dtb)
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if it.path == path && it.prop == prop {
			return true, nil
		}
	}
	return false, nil
}

// fdtCut removes the bytes [start, end) of the structure block and moves
// the header's offsets of the blocks behind them.
func fdtCut(dtb []byte, start, end int) []byte {
	n := end - start
	out := append(append([]byte(nil), dtb[:start]...), dtb[end:]...)
	be := binary.BigEndian
	be.PutUint32(out[4:], be.Uint32(out[4:])-uint32(n))   // totalsize
	be.PutUint32(out[36:], be.Uint32(out[36:])-uint32(n)) // size_dt_struct
	for _, field := range []int{8, 12, 16} {              // off_dt_struct, off_dt_strings, off_mem_rsvmap
		if off := int(be.Uint32(out[field:])); off > start {
			be.PutUint32(out[field:], uint32(off-n))
		}
	}
	return out
}
