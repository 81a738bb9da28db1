package access

import (
	"testing"
	"time"

	"github.com/bootsplash/bootsplash/internal/testutil"
)

// frameSize is a 1920x1080 XRGB8888 frame.
const frameSize = 1920 * 1080 * 4

// copy64 measures, in ns, one plain 64-byte copy into size bytes of ordinary
// memory at the offsets the brackets below write to: the baseline a bracket
// should come close to.
func copy64(size int) float64 {
	dst, src := make([]byte, size), pattern(64, 1)
	const n = 1 << 20
	start := time.Now()
	for i := range n {
		off := bracketOffset(i, size)
		copy(dst[off:off+64], src)
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// bracketOffset spreads the writes over the buffer, a page apart.
func bracketOffset(i, size int) int { return (i * 4160) % (size - 64) }

// BenchmarkBracket measures Begin + a 64-byte write + Damage + End per
// strategy over a memfd the size of a 1920x1080 XRGB8888 frame, and reports
// the cost as a multiple of a plain 64-byte copy measured in the same run
// ("x-copy64"). A memfd never syncs, so this is each strategy's CPU-side
// cost; BenchmarkBracketHeap adds the DMA_BUF_IOCTL_SYNC calls.
func BenchmarkBracket(b *testing.B) {
	baseline := copy64(frameSize)
	b.Logf("baseline: a 64-byte copy takes %.2f ns", baseline)
	for _, s := range Strategies() {
		b.Run(s.String(), func(b *testing.B) {
			benchBrackets(b, memfdBuf(b, frameSize), s, baseline)
		})
	}
}

// BenchmarkBracketHeap is BenchmarkBracket over a system-heap dma-buf, where
// the brackets really sync (inside the VM, or wherever the heap exists).
func BenchmarkBracketHeap(b *testing.B) {
	testutil.NeedPath(b, "/dev/dma_heap/system")
	h := systemHeap(b)
	baseline := copy64(frameSize)
	for _, s := range Strategies() {
		b.Run(s.String(), func(b *testing.B) {
			benchBrackets(b, heapBuf(b, h, frameSize), s, baseline)
		})
	}
}

func benchBrackets(b *testing.B, buf *Buffer, s Strategy, baseline float64) {
	m := mustMap(b, buf, s)
	src := pattern(64, 1)
	// Touch every page first, so that the loop measures brackets, not
	// first-touch page faults.
	mem, _ := m.Begin(Write)
	clear(mem)
	m.DamageAll()
	m.End()
	size := buf.Size()
	i := 0
	for b.Loop() {
		mem, err := m.Begin(Write)
		if err != nil {
			b.Fatal(err)
		}
		off := bracketOffset(i, size)
		copy(mem[off:off+64], src)
		m.Damage(Region{Off: off, Len: 64})
		if err := m.End(); err != nil {
			b.Fatal(err)
		}
		i++
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/baseline, "x-copy64")
}
