// Package packaging holds no Go code: it is where the files a distribution
// or an embedded image needs to ship bootsplash live (systemd units, the
// udev rule, the initramfs-tools hook and scripts, the dracut module, the
// settings file and the shell helper they share), with the tests that
// check them against the real tools: systemd-analyze verify, Debian's
// mkinitramfs and hook-functions, dracut and lsinitrd, and the bootsplash
// daemon itself driven by the helper. README.md says how to install them.
package packaging
