package access

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestHeapType(t *testing.T) {
	// A fake /sys/kernel/mm/cma with the areas a 6.12 kernel lists for a
	// device-tree region and for cma= on the command line.
	cma := t.TempDir()
	for _, a := range []string{"reserved", "framebuffer@9f000000"} {
		if err := os.Mkdir(filepath.Join(cma, a), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, cmaDir string
		want         HeapType
	}{
		{"system", cma, HeapSystem},
		{"system-uncached", cma, HeapSystemUncached},
		{"reserved", cma, HeapCMA},              // confirmed by sysfs
		{"reserved", "", HeapCMA},               // by its well-known name
		{"framebuffer@9f000000", cma, HeapCMA},  // a per-region heap, confirmed by sysfs
		{"framebuffer@9f000000", "", HeapOther}, // the same without CONFIG_CMA_SYSFS
		{"linux,cma", "", HeapCMA},
		{"default_cma_region", cma, HeapCMA},
		{"vendor_CMA_heap", "", HeapCMA},
		{"qcom,secure", cma, HeapOther},
	} {
		got, why := heapType(c.name, c.cmaDir)
		if got != c.want || why == "" {
			t.Errorf("heapType(%q, %q) = %v %q, want %v", c.name, c.cmaDir, got, why, c.want)
		}
	}
	if _, why := heapType("reserved", cma); why != "a CMA area ("+filepath.Join(cma, "reserved")+")" {
		t.Errorf("the reason %q does not name the sysfs area", why)
	}
}

func TestOrderHeaps(t *testing.T) {
	hs := func(names ...string) []Heap {
		var out []Heap
		for _, n := range names {
			h := Heap{Name: n}
			h.Type, _ = heapType(n, "")
			out = append(out, h)
		}
		return out
	}
	names := func(heaps []Heap) []string {
		var out []string
		for _, h := range heaps {
			out = append(out, h.Name)
		}
		return out
	}
	// As Heaps lists them: by name.
	all := hs("carveout", "default_cma_region", "reserved", "system", "system-uncached")
	for _, c := range []struct {
		contiguous bool
		want       []string
	}{
		{true, []string{"reserved", "default_cma_region", "carveout", "system", "system-uncached"}},
		{false, []string{"system", "system-uncached", "reserved", "default_cma_region", "carveout"}},
	} {
		if got := names(OrderHeaps(all, c.contiguous)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("contiguous %v: %q, want %q", c.contiguous, got, c.want)
		}
	}
	if got := names(all); got[0] != "carveout" {
		t.Errorf("OrderHeaps changed its argument: %q", got)
	}
	if got := names(OrderHeaps(hs("system"), true)); !reflect.DeepEqual(got, []string{"system"}) {
		t.Errorf("only system, contiguous: %q", got)
	}
}
