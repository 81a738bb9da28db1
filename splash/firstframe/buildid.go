package firstframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// ErrNoBuildID is returned when an executable carries no Go build ID.
var ErrNoBuildID = errors.New("no Go build ID")

// buildIDPage is how much of the executable is read for its build ID: the
// Go linker puts the note right after the program headers, in the first
// page.
const buildIDPage = 4096

// BuildID returns the Go build ID of the executable at path (the running
// program's is in /proc/self/exe): the linker's hash of everything the
// binary was built from, embedded files included, from the ELF note "Go"
// of type 4. It reads one page, with plain system calls (openRegular).
func BuildID(path string) (string, error) {
	fd, _, err := openRegular(path)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	b := make([]byte, buildIDPage)
	n := 0
	for n < len(b) {
		m, err := syscall.Pread(fd, b[n:], int64(n))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	id, err := elfBuildID(b[:n])
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return id, nil
}

// elfBuildID finds the Go build ID note among the PT_NOTE segments that lie
// within b, the start of an ELF file (32 or 64 bits, either byte order).
func elfBuildID(b []byte) (string, error) {
	if len(b) < 52 || !bytes.HasPrefix(b, []byte("\x7fELF")) {
		return "", errors.New("not an ELF file")
	}
	var bo binary.ByteOrder
	switch b[5] {
	case 1:
		bo = binary.LittleEndian
	case 2:
		bo = binary.BigEndian
	default:
		return "", fmt.Errorf("ELF byte order %d unknown", b[5])
	}
	var phoff, phentsize, phnum uint64
	is64 := false
	switch b[4] {
	case 1:
		phoff, phentsize, phnum = uint64(bo.Uint32(b[28:])), uint64(bo.Uint16(b[42:])), uint64(bo.Uint16(b[44:]))
	case 2:
		if len(b) < 64 {
			return "", errors.New("ELF header cut short")
		}
		is64 = true
		phoff, phentsize, phnum = bo.Uint64(b[32:]), uint64(bo.Uint16(b[54:])), uint64(bo.Uint16(b[56:]))
	default:
		return "", fmt.Errorf("ELF class %d unknown", b[4])
	}
	const ptNote = 4
	for i := uint64(0); i < phnum; i++ {
		at := phoff + i*phentsize
		if phentsize < 32 || at+phentsize > uint64(len(b)) {
			break
		}
		ph := b[at : at+phentsize]
		if bo.Uint32(ph) != ptNote {
			continue
		}
		var off, size uint64
		if is64 {
			if len(ph) < 40 {
				continue
			}
			off, size = bo.Uint64(ph[8:]), bo.Uint64(ph[32:])
		} else {
			off, size = uint64(bo.Uint32(ph[4:])), uint64(bo.Uint32(ph[16:]))
		}
		if off > uint64(len(b)) || size > uint64(len(b))-off {
			continue
		}
		if id, ok := goNote(b[off:off+size], bo); ok {
			return id, nil
		}
	}
	return "", ErrNoBuildID
}

// goNote returns the descriptor of the note named "Go" of type 4
// (ELF_NOTE_GOBUILDID_TAG) among the notes in b.
func goNote(b []byte, bo binary.ByteOrder) (string, bool) {
	align := func(n uint64) uint64 { return (n + 3) &^ 3 }
	for len(b) >= 12 {
		namesz, descsz, typ := uint64(bo.Uint32(b)), uint64(bo.Uint32(b[4:])), bo.Uint32(b[8:])
		name := 12 + align(namesz)
		end := name + align(descsz)
		if namesz > uint64(len(b)) || descsz > uint64(len(b)) || end > uint64(len(b)) || name+descsz > uint64(len(b)) {
			return "", false
		}
		if typ == 4 && (namesz == 3 || namesz == 4) && string(b[12:15]) == "Go\x00" && descsz > 0 {
			return string(b[name : name+descsz]), true
		}
		b = b[end:]
	}
	return "", false
}
