package access_test

import (
	"fmt"
	"log"

	"github.com/bootsplash/bootsplash/access"
)

// Draw into a buffer through a mapping: Begin before touching the memory,
// End when done, and say what was written. A memfd stands in for the heap
// buffer a real program would allocate with access.OpenHeap("").
func ExampleMap() {
	buf, err := access.AllocMemfd(64 * 4 * 48) // 64x48 XRGB8888
	if err != nil {
		log.Fatal(err)
	}
	defer buf.Close()
	m, err := access.Map(buf, access.Shadow)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	px, err := m.Begin(access.Write)
	if err != nil {
		log.Fatal(err)
	}
	const stride = 64 * 4
	for y := 10; y < 20; y++ { // a 16x10 white box at (8,10)
		row := px[y*stride+8*4 : y*stride+24*4]
		for i := range row {
			row[i] = 0xff
		}
	}
	m.Damage(access.Region{Off: 10*stride + 8*4, Len: 16 * 4, Stride: stride, Rows: 10})
	if err := m.End(); err != nil {
		log.Fatal(err)
	}
	st := m.Stats()
	fmt.Printf("%s over %s: %d bracket, %d bytes written back, %d syncs\n",
		m.Strategy(), buf.Origin(), st.Brackets, st.BytesCopied, st.Syncs)
	// Output: shadow over memfd: 1 bracket, 640 bytes written back, 0 syncs
}
