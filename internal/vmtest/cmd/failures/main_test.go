package main

import (
	"strings"
	"testing"
)

func TestScanKeepsWhatFailedTestsSaid(t *testing.T) {
	log := `=== RUN   TestA
    a_test.go:10: fine
--- PASS: TestA (0.01s)
=== RUN   TestB
=== PAUSE TestB
=== RUN   TestC
=== RUN   TestC/sub
    c_test.go:5: want 3, got 4
=== CONT  TestB
    b_test.go:7: booting
=== NAME  TestC/sub
    c_test.go:6: second
--- FAIL: TestC/sub (0.00s)
--- FAIL: TestC (0.00s)
--- PASS: TestB (1.00s)
FAIL
`
	fails, panicked, err := scan(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if panicked != nil {
		t.Errorf("panic lines %q from a log without a panic", panicked)
	}
	if len(fails) != 2 || fails[0].name != "TestC/sub" || fails[1].name != "TestC" {
		t.Fatalf("failed tests %+v, want TestC/sub then TestC", fails)
	}
	got := strings.Join(fails[0].lines, "|")
	if got != "    c_test.go:5: want 3, got 4|    c_test.go:6: second" {
		t.Errorf("TestC/sub said %q", got)
	}
}

func TestScanShowsAPanic(t *testing.T) {
	log := "=== RUN   TestA\npanic: test timed out after 1m0s\n\trunning tests:\n\t\tTestA (1m0s)\n"
	fails, panicked, err := scan(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 0 || len(panicked) != 3 || !strings.Contains(panicked[0], "timed out") {
		t.Errorf("fails %v, panic %q", fails, panicked)
	}
}

func TestScanBoundsEachTest(t *testing.T) {
	var b strings.Builder
	b.WriteString("=== RUN   TestLong\n")
	for i := 0; i < 5*maxLines; i++ {
		b.WriteString("    x_test.go:1: line\n")
	}
	b.WriteString("    x_test.go:2: the last\n--- FAIL: TestLong (0.00s)\n")
	fails, _, err := scan(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(fails) != 1 || len(fails[0].lines) != maxLines || fails[0].lines[maxLines-1] != "    x_test.go:2: the last" {
		t.Errorf("kept %d lines, want the last %d", len(fails[0].lines), maxLines)
	}
}
