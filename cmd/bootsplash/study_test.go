package main

import (
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStudyUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"study", "--sizes", "huge"},
		{"study", "--sizes", ","},
		{"study", "--strategies", "cached,sometimes"},
		{"study", "--workloads", "scroll"},
		{"study", "--source", "vram"},
		{"study", "--frames", "0"},
		{"study", "extra"},
	} {
		_, _, err := runArgs(t, args...)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 {
			t.Errorf("bootsplash %q: %v (exit %d), want a usage error", args, err, exitCode(err))
		}
	}
}

func TestStudyWritesTableCSVAndReport(t *testing.T) {
	dir := t.TempDir()
	csvPath, jsonPath, report := filepath.Join(dir, "s.csv"), filepath.Join(dir, "s.json"), filepath.Join(dir, "report")
	out, errOut, err := runArgs(t, "study", "--source", "memfd", "--sizes", "64x48,96x64", "--frames", "3", "--warmup", "1",
		"--strategies", "cached,shadow", "--workloads", "progress,text", "--csv", csvPath, "--json", jsonPath, "--report", report)
	if err != nil {
		t.Fatalf("study: %v\n%s", err, errOut)
	}
	for _, want := range []string{"memfd buffers", "96x64", "progress", "shadow"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 1+2*2*2 {
		t.Errorf("CSV: %d rows (%v), want a header and 8 cells", len(rows), err)
	}
	for _, p := range []string{jsonPath, filepath.Join(report, "report.md"), filepath.Join(report, "results.csv")} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if !strings.Contains(errOut, "report.md") {
		t.Errorf("stderr does not name the report: %q", errOut)
	}

	// --from prints the same table from the JSON in a build with plots, and
	// says it needs one in a build without.
	again, _, err := runArgs(t, "study", "--from", jsonPath)
	switch {
	case err == nil && again != out:
		t.Errorf("--from printed\n%s\nwant\n%s", again, out)
	case err != nil && (!errors.Is(err, errUsage) || !strings.Contains(err.Error(), "-tags plots")):
		t.Errorf("--from: %v", err)
	}
}
