package input

// Secret is a buffer for a passphrase being typed: a fixed capacity,
// kept out of swap and core dumps where the system allows, and zeroed
// when emptied or freed.
type Secret struct {
	buf []byte
	n   int
	// release unmaps what newSecretBuf mapped; nil for plain memory.
	release func()
}

// SecretSize is the most bytes a Secret holds; more typed is ignored.
const SecretSize = 512

// NewSecret makes an empty Secret. Locked says whether its memory is
// kept out of swap and core dumps (mlock and MADV_DONTDUMP); when the
// system refuses, it still works, in ordinary memory.
func NewSecret() (s *Secret, locked bool) {
	buf, release, locked := secretBuf(SecretSize)
	return &Secret{buf: buf, release: release}, locked
}

// Bytes is the text held; it is valid until the next change.
func (s *Secret) Bytes() []byte { return s.buf[:s.n] }

// Len is the number of bytes held.
func (s *Secret) Len() int { return s.n }

// Append adds b, or nothing if it would not fit; it reports whether it
// did.
func (s *Secret) Append(b []byte) bool {
	if s.n+len(b) > len(s.buf) {
		return false
	}
	s.n += copy(s.buf[s.n:], b)
	return true
}

// Backspace removes the last UTF-8 character.
func (s *Secret) Backspace() {
	if s.n == 0 {
		return
	}
	i := s.n - 1
	for i > 0 && s.buf[i]&0xC0 == 0x80 {
		i--
	}
	clear(s.buf[i:s.n])
	s.n = i
}

// Clear zeroes what is held and empties the Secret.
func (s *Secret) Clear() {
	clear(s.buf[:s.n])
	s.n = 0
}

// Free zeroes the Secret and gives its memory back; it is unusable
// afterwards. It is safe to call more than once.
func (s *Secret) Free() {
	if s.buf == nil {
		return
	}
	clear(s.buf)
	s.n = 0
	if s.release != nil {
		s.release()
	}
	s.buf, s.release = nil, nil
}
