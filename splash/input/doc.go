// Package input reads a keyboard for the splash's prompts, without udev,
// X or libinput, as an initramfs has them.
//
// It mirrors what plymouthd's ply-keyboard does with the kernel's two
// keyboard interfaces: the tty of the virtual terminal the splash owns
// (TTY), put in non-canonical mode with echo off while a question is
// open, which hands over characters already translated through the
// keymap the initramfs loaded (loadkeys, console-setup); and evdev
// (Evdev, /dev/input/event*), for systems without virtual terminals
// (CONFIG_VT=n), whose key codes are turned into characters with a
// built-in layout. A keyboard plugged in while a question is open is
// used at once: the console takes it by itself for the tty, and the
// evdev reader opens its node when the kernel's "add" uevent for it
// comes (with a slow rescan behind, for uevents lost). Caps Lock, which
// types nothing, is asked of the console (KDGKBLED) on a timer; evdev
// keeps its own.
//
// Both read only while open: the daemon opens its Source when the first
// question or keystroke watch comes and closes it when the last is
// answered, so keys typed for the console are not taken otherwise.
// Between questions an EscapeWatcher reads evdev without a grab and
// passes on only Escape and the keys that scroll the details view
// (arrows, Page Up and Down, Home, End; Kind.Watched); the console still
// gets them.
// Typed characters travel in Events of fixed-size arrays, never in
// strings, so the daemon can zero a passphrase once answered.
package input
