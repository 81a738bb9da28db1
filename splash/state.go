package splash

// State is what the splash shows besides its theme: what the boot scripts
// told it last, and where the animation is. The daemon owns the current
// State; the renderer draws any State it is given.
type State struct {
	// Progress is the boot progress from 0 to 1. A negative value means
	// progress is unknown: the bar pulses (indeterminate mode).
	Progress float64
	// Message is the message line ("Checking file systems…"); "" hides it.
	Message string
	// Status is the status line under it (plymouth's update/status); ""
	// hides it.
	Status string
	// Frame is the spinner's animation frame, counting up without bound;
	// the renderer takes it modulo the spinner's frame count.
	Frame int
	// Prompt is the question being asked, if any.
	Prompt Prompt
	// Details, when not nil, is shown instead of the splash.
	Details *Details

	// coldWarning leaves the theme's [secure_boot] line out of a head's
	// first frame when it needs a shaper not made yet
	// (Renderer.withoutColdText); the frame after it draws the line.
	coldWarning bool
}
