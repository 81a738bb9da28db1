// Package preview shows the emulated display of package fbemu in a desktop
// window, the way a panel scans out a KMS framebuffer: the splash daemon
// draws on an fbemu.Emulated display, and each update's damage clips (what
// FB_DAMAGE_CLIPS would carry to the kernel) are uploaded to an OpenGL
// texture with glTexSubImage2D, so only what changed crosses to the GPU.
//
// Theme authors and people studying the access model use it through
// `bootsplash preview` to watch frames and drive them live over the same
// control front ends as `bootsplash run`, without a spare device.
//
// The window needs cgo, OpenGL and GLFW, so everything but this file is
// built only with the preview build tag; the default build of bootsplash
// stays static and cgo-free.
package preview
