#!/bin/sh
# Builds busybox:latest on a Docker engine from Debian's busybox-static:
# one static binary, its applet links, and the PATH an image from a
# registry would carry.  No registry is involved.
# Usage: busybox-image.sh [DOCKER_CLI_ARGS...], e.g. -H unix:///run/x.sock
set -eu
docker=/usr/bin/docker
[ -x "$docker" ] || docker=docker
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/proc" "$root/sys" \
	"$root/dev"
# The engine gives a tmpfs the mode of the image's directory under it.
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
tar -C "$root" -c . | "$docker" "$@" import \
	--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	--change 'CMD ["sh"]' - busybox:latest > /dev/null
