package client

import (
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// flipEvents encodes flip-complete events as the kernel queues them on a
// DRM file, one per user data value.
func flipEvents(data ...uint64) []byte {
	var b []byte
	for i, d := range data {
		e := make([]byte, 32)
		binary.LittleEndian.PutUint32(e[0:], uapi.DRM_EVENT_FLIP_COMPLETE)
		binary.LittleEndian.PutUint32(e[4:], 32)
		binary.LittleEndian.PutUint64(e[8:], d)
		binary.LittleEndian.PutUint32(e[28:], uint32(i+1)) // CRTC
		b = append(b, e...)
	}
	return b
}

// TestWaitFlipForKeepsOtherFlips reads events from a pipe standing in for
// the device file: one read brings the flips of two CRTCs; each waiter
// gets its own, the other's is kept, and the oldest go when more than
// the queue holds are read.
func TestWaitFlipForKeepsOtherFlips(t *testing.T) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	d := &Device{path: "(pipe)", fd: p[0]}
	if _, err := unix.Write(p[1], flipEvents(7, 9)); err != nil {
		t.Fatal(err)
	}
	if e, err := d.WaitFlipFor(9, time.Second); err != nil || e.UserData != 9 || e.CRTC != 2 {
		t.Fatalf("WaitFlipFor(9) = %+v, %v", e, err)
	}
	// 7 came in the same read: it is there without another.
	if e, err := d.WaitFlipFor(7, 10*time.Millisecond); err != nil || e.UserData != 7 {
		t.Fatalf("WaitFlipFor(7) after the read that brought it = %+v, %v", e, err)
	}
	if _, err := d.WaitFlip(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("WaitFlip with nothing queued: %v, want ErrTimeout", err)
	}

	// More than the queue holds: the oldest are dropped.
	var many []uint64
	for i := range maxQueuedFlips + 4 {
		many = append(many, uint64(100+i))
	}
	if _, err := unix.Write(p[1], flipEvents(many...)); err != nil {
		t.Fatal(err)
	}
	last := many[len(many)-1]
	if e, err := d.WaitFlipFor(last, time.Second); err != nil || e.UserData != last {
		t.Fatalf("WaitFlipFor(%d) = %+v, %v", last, e, err)
	}
	if _, err := d.WaitFlipFor(many[0], 10*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("the oldest flip is still queued past %d: %v", maxQueuedFlips, err)
	}
	if e, err := d.WaitFlip(10 * time.Millisecond); err != nil || e.UserData != many[len(many)-maxQueuedFlips] {
		t.Errorf("WaitFlip = %+v, %v; want the oldest kept, %d", e, err, many[len(many)-maxQueuedFlips])
	}
	// Waiting allocates nothing, whether the flip is read or queued.
	two := flipEvents(1, 2)
	if n := testing.AllocsPerRun(5, func() {
		unix.Write(p[1], two)
		if e, err := d.WaitFlipFor(2, time.Second); err != nil || e.UserData != 2 {
			t.Fatalf("WaitFlipFor(2) = %+v, %v", e, err)
		}
		if e, err := d.WaitFlipFor(1, time.Second); err != nil || e.UserData != 1 {
			t.Fatalf("WaitFlipFor(1) = %+v, %v", e, err)
		}
	}); n != 0 {
		t.Errorf("a read flip and a queued one: %v allocations", n)
	}
}
