package client

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"testing"
	"unsafe"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// FuzzParseEvents reads arbitrary bytes as what read(2) returned from a DRM
// fd. Whatever it returns, the events are the vblank and flip-complete
// events at the offsets the headers chain to, with their fields as stored
// there; it succeeds exactly when the headers chain to the end of the
// bytes; AppendEvents keeps what it appends to.
func FuzzParseEvents(f *testing.F) {
	flip := event(uapi.DRM_EVENT_FLIP_COMPLETE, 8, 35, 77)
	seq := make([]byte, unsafe.Sizeof(uapi.DrmEventCrtcSequence{}))
	binary.LittleEndian.PutUint32(seq, uapi.DRM_EVENT_CRTC_SEQUENCE)
	binary.LittleEndian.PutUint32(seq[4:], uint32(len(seq)))
	short := slices.Clone(flip)
	binary.LittleEndian.PutUint32(short[4:], 16)
	for _, b := range [][]byte{
		nil,
		event(uapi.DRM_EVENT_VBLANK, 7, 35, 1),
		slices.Concat(event(uapi.DRM_EVENT_VBLANK, 7, 35, 1), seq, []byte{0x99, 0, 0, 0, 12, 0, 0, 0, 1, 2, 3, 4}, flip),
		slices.Concat(flip, []byte{1, 2, 3}),
		flip[:20],
		{1, 0, 0, 0, 4, 0, 0, 0},
		{1, 0, 0, 0, 0, 0, 0, 0},
		{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff},
		short[:16],
		slices.Concat(flip, flip[:10]),
		slices.Concat(flip, []byte{2, 0, 0, 0, 40, 0, 0, 0}, make([]byte, 32)),
	} {
		f.Add(b)
	}
	le := binary.LittleEndian
	const hsize, vsize = 8, 32
	f.Fuzz(func(t *testing.T, b []byte) {
		prefix := []Event{{Type: 99, Sequence: 1}}
		evs, err := AppendEvents(slices.Clone(prefix), b)
		if len(evs) == 0 || evs[0] != prefix[0] {
			t.Fatalf("AppendEvents lost what it appends to: %+v", evs)
		}
		evs = evs[1:]
		// Walk the headers the plain way.
		var want []Event
		off := 0
		chained := true
		for off < len(b) {
			if len(b)-off < hsize {
				chained = false
				break
			}
			typ, n := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
			if n < hsize || n > len(b)-off {
				chained = false
				break
			}
			if typ == uapi.DRM_EVENT_VBLANK || typ == uapi.DRM_EVENT_FLIP_COMPLETE {
				if n < vsize {
					chained = false
					break
				}
				want = append(want, Event{Type: EventType(typ), UserData: le.Uint64(b[off+8:]), Sec: le.Uint32(b[off+16:]),
					Usec: le.Uint32(b[off+20:]), Sequence: le.Uint32(b[off+24:]), CRTC: CRTCID(le.Uint32(b[off+28:]))})
			}
			off += n
		}
		if chained != (err == nil) {
			t.Fatalf("ParseEvents(% x): error %v, but the headers chain to the end: %v", b, err, chained)
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		if !slices.Equal(evs, want) {
			t.Fatalf("ParseEvents(% x) = %+v, want %+v", b, evs, want)
		}
	})
}

// FuzzParseInFormats reads arbitrary bytes as an IN_FORMATS property blob.
// What it accepts names only formats the blob lists, as many (format,
// modifier) pairs as the masks have bits, takes memory in proportion to
// the blob, and survives being laid out again the kernel's way and read
// back.
func FuzzParseInFormats(f *testing.F) {
	rg16, _ := ParseFormat("RGB565")
	xr24 := FormatXRGB8888
	good := inFormats([]Format{rg16, xr24, xr24}, []uapi.FormatModifier{
		{Formats: 0b111, Modifier: uint64(ModifierLinear)},
		{Formats: 0b10, Offset: 1, Modifier: 1<<56 | 1},
	})
	version2 := slices.Clone(good)
	version2[0] = 2
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint32(huge[8:], 0xffffffff)
	wrap := slices.Clone(good)
	binary.LittleEndian.PutUint32(wrap[12:], 0xfffffffc)
	for _, b := range [][]byte{
		good, good[:10], good[:len(good)-1], version2, huge, wrap,
		inFormats(nil, nil),
		inFormats([]Format{xr24}, []uapi.FormatModifier{{Formats: 0b100}}),
		inFormats([]Format{xr24}, []uapi.FormatModifier{{Formats: 1, Offset: 0xffffffff}}),
		inFormats([]Format{xr24, rg16}, []uapi.FormatModifier{{Formats: 1 << 63, Offset: 0xffffffc1}}),
	} {
		f.Add(b)
	}
	le := binary.LittleEndian
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseInFormats(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		nf, foff := int(le.Uint32(b[8:])), int(le.Uint32(b[12:]))
		nm, moff := int(le.Uint32(b[16:])), int(le.Uint32(b[20:]))
		if len(got) > nf || 4*nf > len(b) {
			t.Fatalf("%d formats from a blob of %d bytes listing %d", len(got), len(b), nf)
		}
		listed := map[Format]bool{}
		for i := range nf {
			listed[Format(le.Uint32(b[foff+4*i:]))] = true
		}
		pairs := 0
		for i := range nm {
			pairs += bits.OnesCount64(le.Uint64(b[moff+24*i:]))
		}
		n := 0
		for fm, mods := range got {
			if !listed[fm] {
				t.Fatalf("format %v is not in the blob", fm)
			}
			n += len(mods)
		}
		if n != pairs || len(got) != len(listed) {
			t.Fatalf("%d pairs for %d formats, the blob has %d pairs for %d formats", n, len(got), pairs, len(listed))
		}
		// Lay it out again, one entry per pair, and read it back.
		var formats []Format
		var mods []uapi.FormatModifier
		for fm, ms := range got {
			for _, m := range ms {
				mods = append(mods, uapi.FormatModifier{Formats: 1, Offset: uint32(len(formats)), Modifier: uint64(m)})
			}
			formats = append(formats, fm)
		}
		back, err := ParseInFormats(inFormats(formats, mods))
		if err != nil {
			t.Fatalf("laid out again: %v", err)
		}
		for fm, ms := range got {
			a, c := slices.Clone(ms), slices.Clone(back[fm])
			slices.Sort(a)
			slices.Sort(c)
			if _, ok := back[fm]; !ok || !slices.Equal(a, c) {
				t.Fatalf("format %v: modifiers %v, read back %v", fm, ms, back[fm])
			}
		}
		if len(back) != len(got) {
			t.Fatalf("read back %d formats, want %d", len(back), len(got))
		}
	})
}
