package input

import (
	"unicode"
	"unicode/utf8"

	"github.com/bootsplash/bootsplash/internal/uapi"
)

// Layout maps evdev key codes to characters, as a console keymap does for
// the keys a prompt needs: each key's character alone and with Shift.
// Caps Lock shifts letters only.
type Layout struct {
	// Name is the layout's name as loadkeys knows it ("us").
	Name string
	keys map[uint16][2]rune
}

// Layouts are the built-in layouts by name.
func Layouts() map[string]*Layout {
	return map[string]*Layout{"us": US(), "de": DE(), "fr": FR()}
}

// row fills keys from codes and the characters alone and shifted.
func row(keys map[uint16][2]rune, codes []uint16, plain, shifted string) {
	p, s := []rune(plain), []rune(shifted)
	for i, c := range codes {
		keys[c] = [2]rune{p[i], s[i]}
	}
}

var (
	digitRow = []uint16{uapi.KEY_GRAVE, uapi.KEY_1, uapi.KEY_2, uapi.KEY_3, uapi.KEY_4, uapi.KEY_5, uapi.KEY_6, uapi.KEY_7, uapi.KEY_8, uapi.KEY_9, uapi.KEY_0, uapi.KEY_MINUS, uapi.KEY_EQUAL}
	topRow   = []uint16{uapi.KEY_Q, uapi.KEY_W, uapi.KEY_E, uapi.KEY_R, uapi.KEY_T, uapi.KEY_Y, uapi.KEY_U, uapi.KEY_I, uapi.KEY_O, uapi.KEY_P, uapi.KEY_LEFTBRACE, uapi.KEY_RIGHTBRACE, uapi.KEY_BACKSLASH}
	homeRow  = []uint16{uapi.KEY_A, uapi.KEY_S, uapi.KEY_D, uapi.KEY_F, uapi.KEY_G, uapi.KEY_H, uapi.KEY_J, uapi.KEY_K, uapi.KEY_L, uapi.KEY_SEMICOLON, uapi.KEY_APOSTROPHE}
	lowRow   = []uint16{uapi.KEY_102ND, uapi.KEY_Z, uapi.KEY_X, uapi.KEY_C, uapi.KEY_V, uapi.KEY_B, uapi.KEY_N, uapi.KEY_M, uapi.KEY_COMMA, uapi.KEY_DOT, uapi.KEY_SLASH}
	keypad   = []uint16{uapi.KEY_KP0, uapi.KEY_KP1, uapi.KEY_KP2, uapi.KEY_KP3, uapi.KEY_KP4, uapi.KEY_KP5, uapi.KEY_KP6, uapi.KEY_KP7, uapi.KEY_KP8, uapi.KEY_KP9, uapi.KEY_KPDOT, uapi.KEY_KPSLASH, uapi.KEY_KPASTERISK, uapi.KEY_KPMINUS, uapi.KEY_KPPLUS, uapi.KEY_SPACE}
)

func common(keys map[uint16][2]rune) {
	// Num Lock is taken as on: the keypad types digits.
	row(keys, keypad, "0123456789./*-+ ", "0123456789./*-+ ")
}

// US is the US English layout (loadkeys us).
func US() *Layout {
	k := map[uint16][2]rune{}
	row(k, digitRow, "`1234567890-=", "~!@#$%^&*()_+")
	row(k, topRow, "qwertyuiop[]\\", "QWERTYUIOP{}|")
	row(k, homeRow, "asdfghjkl;'", "ASDFGHJKL:\"")
	row(k, lowRow, "\\zxcvbnm,./", "|ZXCVBNM<>?")
	common(k)
	return &Layout{Name: "us", keys: k}
}

// DE is the German layout (loadkeys de), without dead keys.
func DE() *Layout {
	k := map[uint16][2]rune{}
	row(k, digitRow, "^1234567890ß´", "°!\"§$%&/()=?`")
	row(k, topRow, "qwertzuiopü+#", "QWERTZUIOPÜ*'")
	row(k, homeRow, "asdfghjklöä", "ASDFGHJKLÖÄ")
	row(k, lowRow, "<yxcvbnm,.-", ">YXCVBNM;:_")
	common(k)
	return &Layout{Name: "de", keys: k}
}

// FR is the French AZERTY layout (loadkeys fr), without dead keys; its
// digits are shifted.
func FR() *Layout {
	k := map[uint16][2]rune{}
	row(k, digitRow, "²&é\"'(-è_çà)=", "²1234567890°+")
	row(k, topRow, "azertyuiop^$*", "AZERTYUIOP¨£µ")
	row(k, homeRow, "qsdfghjklmù", "QSDFGHJKLM%")
	row(k, lowRow, "<wxcvbn,;:!", ">WXCVBN?./§")
	common(k)
	return &Layout{Name: "fr", keys: k}
}

// keyState is one keyboard's modifiers.
type keyState struct {
	shiftL, shiftR, ctrlL, ctrlR bool
}

// key turns one EV_KEY event (value 1 pressed, 2 repeated, 0 released)
// into an Event; caps is Caps Lock's state, which a press of it flips.
func (l *Layout) key(st *keyState, caps *bool, code uint16, value int32) (Event, bool) {
	down := value != 0
	switch code {
	case uapi.KEY_LEFTSHIFT:
		st.shiftL = down
		return Event{}, false
	case uapi.KEY_RIGHTSHIFT:
		st.shiftR = down
		return Event{}, false
	case uapi.KEY_LEFTCTRL:
		st.ctrlL = down
		return Event{}, false
	case uapi.KEY_RIGHTCTRL:
		st.ctrlR = down
		return Event{}, false
	}
	if !down {
		return Event{}, false
	}
	ev := Event{Known: true}
	switch code {
	case uapi.KEY_CAPSLOCK:
		if value == 2 {
			return Event{}, false
		}
		*caps = !*caps
		ev.Kind, ev.CapsLock = CapsLock, *caps
		return ev, true
	case uapi.KEY_ENTER, uapi.KEY_KPENTER:
		ev.Kind = Enter
	case uapi.KEY_BACKSPACE:
		ev.Kind = Backspace
	case uapi.KEY_ESC:
		ev.Kind = Escape
	case uapi.KEY_UP:
		ev.Kind = Up
	case uapi.KEY_DOWN:
		ev.Kind = Down
	case uapi.KEY_PAGEUP:
		ev.Kind = PageUp
	case uapi.KEY_PAGEDOWN:
		ev.Kind = PageDown
	case uapi.KEY_HOME:
		ev.Kind = Home
	case uapi.KEY_END:
		ev.Kind = End
	default:
		r, ok := l.keys[code]
		if !ok {
			return Event{}, false
		}
		if st.ctrlL || st.ctrlR {
			if r[0] == 'c' || r[0] == 'd' {
				ev.Kind = Interrupt
				break
			}
			return Event{}, false
		}
		shift := st.shiftL || st.shiftR
		c := r[0]
		if unicode.IsLetter(r[0]) && *caps {
			shift = !shift
		}
		if shift {
			c = r[1]
		}
		ev.Kind = Text
		ev.Len = utf8.EncodeRune(ev.Text[:], c)
	}
	ev.CapsLock = *caps
	return ev, true
}
