#!/usr/bin/env bash
# Installs the uapi headers bootsplash is generated from into DIR: the DRM,
# dma-buf, dma-heap, udmabuf, kd, vt, fb and input headers of the kernel the VM tests
# boot (Debian's linux-headers-$KVER-common), rewritten the way the kernel's
# scripts/headers_install.sh does. They are meant to be layered over an
# architecture's linux-libc-dev for <linux/types.h> and <asm/...>.
#
# Usage: uapiheaders.sh DIR. Used by mkuapi.sh and by the layout test
# (BOOTSPLASH_UAPI_HEADERS=DIR go test -run TestLayout ./internal/uapi).
set -euo pipefail
[ $# = 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
KVER=${KVER:-6.12.107+deb12}
out=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get -o APT::Sandbox::User=root download -q "linux-headers-$KVER-common" >/dev/null) ||
	{ echo "$0: cannot download linux-headers-$KVER-common (apt-get update?)" >&2; exit 1; }
dpkg-deb -x "$work"/linux-headers-*.deb "$work/x"
uapi="$work/x/usr/src/linux-headers-$KVER-common/include/uapi"
mkdir -p "$out/drm" "$out/linux"
install_header() { # SRC DST
	sed -E -e '
		s/([[:space:](])(__user|__force|__iomem)[[:space:]]/\1/g
		s/__attribute_const__([[:space:]]|$)/\1/g
		s@^#include <linux/compiler(|_types).h>@@
		s/(^|[^a-zA-Z0-9])__packed([^a-zA-Z0-9_]|$)/\1__attribute__((packed))\2/g
		s/(^|[[:space:](])(inline|asm|volatile)([[:space:](]|$)/\1__\2__\3/g
		s@#(ifndef|define|endif[[:space:]]*/[*])[[:space:]]*_UAPI@#\1 @
	' "$1" >"$2"
}
for h in drm/drm.h drm/drm_mode.h drm/drm_fourcc.h linux/dma-buf.h linux/dma-heap.h linux/udmabuf.h linux/kd.h linux/vt.h linux/fb.h linux/vesa.h linux/major.h linux/input.h linux/input-event-codes.h; do
	install_header "$uapi/$h" "$out/$h"
done
