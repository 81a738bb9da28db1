package splash

// Prompt is a question on the splash as the renderer draws it: the
// prompt text and an entry. For a password the entry is drawn as one
// bullet per character typed; the State never holds a passphrase.
type Prompt struct {
	// Active says a question is open; the rest is drawn only then.
	Active bool
	// Text is the prompt ("Passphrase for /dev/sda2:").
	Text string
	// Password hides what is typed behind Bullets.
	Password bool
	// Bullets is how many characters of the password are typed.
	Bullets int
	// Entry is what is typed for a question that is not a password.
	Entry string
	// Retry says the same client asked again after a wrong answer.
	Retry bool
	// CapsLock says Caps Lock is on.
	CapsLock bool
}
