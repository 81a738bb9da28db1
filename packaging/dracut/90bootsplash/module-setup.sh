#!/bin/bash
# dracut module: the bootsplash boot splash in the initramfs. Installed as
# /usr/lib/dracut/modules.d/90bootsplash/. Without systemd in the initramfs
# the pre-trigger hook starts the splash and the pre-pivot hook hands it to
# the real root; with systemd, the units and the udev rule do it as they do
# in the real root.
#
# BOOTSPLASH, BOOTSPLASH_HELPER, BOOTSPLASH_DEFAULTS, BOOTSPLASH_UNITDIR and
# BOOTSPLASH_RULE name the files to copy, for package builds and tests; they
# default to the installed paths.

bootsplash_paths() {
    BOOTSPLASH="${BOOTSPLASH:-/usr/bin/bootsplash}"
    BOOTSPLASH_HELPER="${BOOTSPLASH_HELPER:-/usr/libexec/bootsplash/bootsplash-helper}"
    BOOTSPLASH_DEFAULTS="${BOOTSPLASH_DEFAULTS:-/etc/default/bootsplash}"
    BOOTSPLASH_UNITDIR="${BOOTSPLASH_UNITDIR:-$systemdsystemunitdir}"
    BOOTSPLASH_RULE="${BOOTSPLASH_RULE:-/usr/lib/udev/rules.d/71-bootsplash.rules}"
}

# called by dracut
check() {
    bootsplash_paths
    [[ $mount_needs ]] && return 1
    [[ -x $dracutsysrootdir$BOOTSPLASH && -x $dracutsysrootdir$BOOTSPLASH_HELPER ]] || return 1
    return 0
}

# called by dracut
depends() {
    echo drm
}

# called by dracut
install() {
    bootsplash_paths
    inst_simple "$BOOTSPLASH" /usr/bin/bootsplash
    inst_simple "$BOOTSPLASH_HELPER" /usr/libexec/bootsplash/bootsplash-helper
    inst_multiple sleep readlink mkdir ln

    local BOOTSPLASH_THEME=""
    if [[ -r $BOOTSPLASH_DEFAULTS ]]; then
        inst_simple "$BOOTSPLASH_DEFAULTS" /etc/default/bootsplash
        # shellcheck disable=SC1090
        BOOTSPLASH_THEME=$(. "$BOOTSPLASH_DEFAULTS" && echo "$BOOTSPLASH_THEME")
    fi
    # The theme and everything beside it, at the same path as in the root;
    # a theme with mistakes stays out and the built-in one shows.
    if [[ $BOOTSPLASH_THEME ]]; then
        if "$BOOTSPLASH" theme check "$BOOTSPLASH_THEME" >&2; then
            local dir="${BOOTSPLASH_THEME%/*}"
            mkdir -p "$initdir$dir"
            cp -a "$dir/." "$initdir$dir/"
        else
            dwarn "bootsplash: the theme $BOOTSPLASH_THEME has mistakes; the initramfs shows the built-in theme"
            echo 'BOOTSPLASH_THEME=""' >> "$initdir/etc/default/bootsplash"
            BOOTSPLASH_THEME=""
        fi
    fi

    # The theme's first frame for each connected display's preferred mode
    # and 1024x768, copied to the screen at boot before anything is
    # decoded; used only while the build, the size and the theme's files
    # are what they were when it was drawn.
    local sizes=1024x768 modes mode
    for modes in /sys/class/drm/card*-*/modes; do
        [[ -r $modes ]] || continue
        mode=$(head -n 1 "$modes")
        [[ $mode =~ ^[0-9]+x[0-9]+$ ]] && sizes+=",$mode"
    done
    "$BOOTSPLASH" prerender --theme "$BOOTSPLASH_THEME" --size "$sizes" --out "$initdir/usr/lib/bootsplash/frames" >/dev/null ||
        dwarn "bootsplash: could not draw the first frames; the splash renders its first frame at boot"

    inst_hook emergency 50 "$moddir/bootsplash-emergency.sh"
    if dracut_module_included "systemd"; then
        local unit
        for unit in bootsplash.service; do
            inst_simple "$BOOTSPLASH_UNITDIR/$unit" "$systemdsystemunitdir/$unit"
        done
        inst_rules "$BOOTSPLASH_RULE"
    else
        inst_hook pre-trigger 10 "$moddir/bootsplash-pretrigger.sh"
        inst_hook pre-pivot 90 "$moddir/bootsplash-newroot.sh"
    fi
}
