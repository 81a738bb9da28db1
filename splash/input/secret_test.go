package input

import (
	"bytes"
	"runtime"
	"testing"
)

func TestSecret(t *testing.T) {
	s, locked := NewSecret()
	defer s.Free()
	if runtime.GOOS == "linux" && !locked {
		t.Logf("the buffer could not be locked here (RLIMIT_MEMLOCK?)")
	}
	s.Append([]byte("ab€"))
	s.Backspace()
	if got := string(s.Bytes()); got != "ab" {
		t.Errorf("after backspace over a 3-byte rune: %q", got)
	}
	raw := s.buf
	s.Append([]byte("cd"))
	s.Clear()
	if s.Len() != 0 || !bytes.Equal(raw[:8], make([]byte, 8)) {
		t.Errorf("Clear left %q", raw[:8])
	}
	for i := 0; i < SecretSize; i++ {
		s.Append([]byte{'x'})
	}
	if s.Append([]byte{'y'}) || s.Len() != SecretSize {
		t.Errorf("a full Secret took more: len %d", s.Len())
	}
	s.Free()
	s.Free()
}
