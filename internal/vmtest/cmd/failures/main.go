// Command failures reads the log of `go test -v` on standard input and
// prints, for each test that failed, what it said: the suite's log is
// long, and the end of a CI log should name the cause of a failure.
//
// Lines are given to the test the log last named (=== RUN, CONT or NAME,
// which go test prints whenever the test whose output follows changes).
// A test's own lines (its t.Log and t.Error output, indented, with
// file:line) are kept, up to the last maxLines of each failed test; a
// panic or a timeout of the whole binary is shown from its first line.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
)

// maxLines bounds what is printed of one failed test.
const maxLines = 60

var (
	named  = regexp.MustCompile(`^=== (?:RUN|CONT|NAME)\s+(\S+)`)
	failed = regexp.MustCompile(`^\s*--- FAIL: (\S+) \(`)
	panics = regexp.MustCompile(`^panic: `)
)

// failure is what one failed test said.
type failure struct {
	name  string
	lines []string
}

// scan reads a go test -v log and returns the failed tests in the order
// they failed, and the lines of a panic or a timeout, if any.
func scan(r io.Reader) ([]failure, []string, error) {
	said := map[string][]string{}
	var cur string
	var out []failure
	var panicked []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if panicked != nil {
			if len(panicked) < maxLines {
				panicked = append(panicked, line)
			}
			continue
		}
		if m := named.FindStringSubmatch(line); m != nil {
			cur = m[1]
			continue
		}
		if m := failed.FindStringSubmatch(line); m != nil {
			out = append(out, failure{name: m[1], lines: said[m[1]]})
			continue
		}
		if panics.MatchString(line) {
			panicked = []string{line}
			continue
		}
		if cur != "" && strings.HasPrefix(line, "    ") {
			l := append(said[cur], line)
			if len(l) > maxLines {
				l = l[len(l)-maxLines:]
			}
			said[cur] = l
		}
	}
	return out, panicked, sc.Err()
}

func main() {
	fails, panicked, err := scan(os.Stdin)
	if err != nil {
		fmt.Fprintf(os.Stderr, "failures: reading the log: %v\n", err)
		os.Exit(1)
	}
	for _, f := range fails {
		fmt.Printf("--- FAIL: %s\n", f.name)
		for _, l := range f.lines {
			fmt.Println(l)
		}
	}
	if panicked != nil {
		fmt.Println(strings.Join(panicked, "\n"))
	}
	if len(fails) == 0 && panicked == nil {
		fmt.Println("(no failed test in the log: the failure came from the build or the test binary)")
	}
}
