#!/bin/sh
# dracut pre-pivot hook (sourced by init, without systemd): the real root is
# at $NEWROOT. switch_root moves /run (and the control socket in it) there
# and the daemon keeps running, unless nothing there would end it (see
# BOOTSPLASH_INITRD_QUIT in /etc/default/bootsplash).

if [ -x /usr/libexec/bootsplash/bootsplash-helper ]; then
    /usr/libexec/bootsplash/bootsplash-helper leave-initrd "$NEWROOT"
fi
