#!/bin/sh
# dracut pre-trigger hook (sourced by init, without systemd): load the
# display drivers first, as plymouth's hook does, then start the splash.

if [ -x /usr/libexec/bootsplash/bootsplash-helper ] && /usr/libexec/bootsplash/bootsplash-helper enabled --initrd; then
    udevadm trigger --action=add --attr-match=class=0x030000 > /dev/null 2>&1
    udevadm trigger --action=add --subsystem-match=graphics --subsystem-match=drm > /dev/null 2>&1
    udevadm settle --timeout=30 2>&1 | vinfo
    info "Starting bootsplash"
    mkdir -p /run/initramfs
    BOOTSPLASH_LOG=/run/initramfs/bootsplash.log /usr/libexec/bootsplash/bootsplash-helper start 5 \
        || warn "bootsplash did not start; see /run/initramfs/bootsplash.log"
fi
