package control

import (
	"bytes"
	"testing"
)

func TestAnswerRoundTrip(t *testing.T) {
	for _, a := range []string{"", "plain", `back\slash`, "new\nline\r\x00nul", "€uro", `\n`} {
		line := AppendAnswer(nil, []byte(a))
		if bytes.Count(line, []byte{'\n'}) != 1 || line[len(line)-1] != '\n' || bytes.IndexByte(line, 0) >= 0 {
			t.Errorf("AppendAnswer(%q) = %q: not one line", a, line)
		}
		body := bytes.TrimSuffix(bytes.TrimPrefix(line, []byte("answer ")), []byte("\n"))
		got, err := ParseAnswer(body)
		if err != nil || string(got) != a {
			t.Errorf("ParseAnswer(%q) = %q, %v; want %q", body, got, err, a)
		}
	}
	for _, bad := range []string{`ends\`, `\x`} {
		if _, err := ParseAnswer([]byte(bad)); err == nil {
			t.Errorf("ParseAnswer(%q) succeeded", bad)
		}
	}
}

func TestResultZero(t *testing.T) {
	a, b := []byte("secret"), []byte("other")
	r := &Result{Answer: a, Answers: [][]byte{b}}
	r.Zero()
	if !bytes.Equal(a, make([]byte, 6)) || !bytes.Equal(b, make([]byte, 5)) || r.Answer != nil {
		t.Errorf("after Zero: %q %q", a, b)
	}
}
