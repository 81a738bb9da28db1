#!/bin/sh
# dracut emergency hook: an emergency shell is coming: take the splash off
# the display so the console shows.

if [ -x /usr/bin/bootsplash ]; then
    /usr/bin/bootsplash ctl --timeout 2s quit > /dev/null 2>&1 || :
fi
