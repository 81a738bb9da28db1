package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bootsplash/bootsplash/access"
	"github.com/bootsplash/bootsplash/client"
)

// TestInfoHeapChoice prints and round-trips the heap section of a device
// the way a pl111 board with a CMA and a system heap reports it.
func TestInfoHeapChoice(t *testing.T) {
	why := `pl111 at 10020000.clcd is an amba device with no IOMMU: contiguous scanout; heap "reserved" (CMA)`
	r := &infoReport{Devices: []deviceReport{{Path: "/dev/dri/card0", Heap: heapChoiceReport{
		HeapChoice: client.HeapChoice{
			Class: client.DeviceClass{Card: "card0", Name: "10020000.clcd", Bus: "amba", Memory: client.MemoryContiguous},
			Heaps: []access.Heap{{Name: "reserved", Type: access.HeapCMA}, {Name: "system", Type: access.HeapSystem}},
			Why:   why,
		},
		Trials: []heapTrialReport{
			{Heap: "reserved", Type: "CMA", Size: heapTrialSize, Accepted: true},
			{Heap: "system", Type: "system", Size: heapTrialSize, Accepted: true},
			{Heap: "carveout", Type: "other", Size: heapTrialSize, Errno: "EINVAL", Error: "import refused by pl111: invalid argument"},
		},
	}}}}
	var b strings.Builder
	if err := r.writeText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  heap: " + why + "\n",
		`    "reserved" (CMA): accepted a 64 KiB buffer` + "\n",
		`    "system" (system): accepted a 64 KiB buffer (by luck: scattered pages, adjacent this time)` + "\n",
		`    "carveout" (other): refused a 64 KiB buffer: EINVAL (import refused by pl111: invalid argument)` + "\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("info text lacks %q:\n%s", want, b.String())
		}
	}
	var js strings.Builder
	if err := r.writeJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back infoReport
	if err := json.Unmarshal([]byte(js.String()), &back); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	h := back.Devices[0].Heap
	if h.Why != why || h.Class.Memory != client.MemoryContiguous || h.First() != "reserved" || h.Heaps[0].Type != access.HeapCMA || len(h.Trials) != 3 {
		t.Errorf("round trip: %+v", h)
	}
	if !strings.Contains(js.String(), `"memory": "contiguous"`) || !strings.Contains(js.String(), `"Type": "CMA"`) {
		t.Errorf("JSON does not name the memory and heap types:\n%s", js.String())
	}
}
