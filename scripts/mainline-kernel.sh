#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# mainline-kernel.sh: builds, once, the newest mainline kernel Debian
# carries for the test VM and prints the directory that holds it as the
# last line of stdout (laid out as scripts/kernel-build.sh says).
#
# The source is sid's newest linux-source-7.x (or whatever major the
# highest linux-source-N.M is), downloaded as a package file with a
# private apt configuration: this machine's sources stay as they are and
# nothing is installed. Configured as allnoconfig plus
# scripts/mainline-kernel.config.
#
# The package lists and the package live in
# ${EPM_KERNEL_CACHE:-/var/cache/epollmod}/sid/; the lists are fetched
# again when a day old, so a new upload to sid means a new build.
#   EPM_MAINLINE_SOURCE=linux-source-7.2   pins the source package
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need apt-get apt
need dpkg-deb dpkg
need flock util-linux
cache=${EPM_KERNEL_CACHE:-/var/cache/epollmod}
sid=$cache/sid
if ! mkdir -p "$sid/lists/partial" "$sid/archives/partial" 2>/dev/null ||
	[ ! -w "$sid" ]; then
	die "mainline-kernel: cannot write $sid: run as root, or set EPM_KERNEL_CACHE"
fi
exec 8>"$sid/.lock"
flock 8

private_apt "$sid"
echo "deb [signed-by=$debian_keyring] http://deb.debian.org/debian sid main" \
	>"$sid/sources.list"
if [ -z "$(find "$sid/updated" -mmin -1440 2>/dev/null)" ]; then
	note "mainline-kernel: fetching sid's package lists"
	apt-get "${apt_opts[@]}" -qq update >&2 ||
		die "mainline-kernel: cannot fetch sid's package lists"
	touch "$sid/updated"
fi

# The highest linux-source-N.M that sid has.
pkg=${EPM_MAINLINE_SOURCE:-}
if [ -z "$pkg" ]; then
	pkg=$(apt-cache "${apt_opts[@]}" search --names-only \
		'^linux-source-[0-9]+\.[0-9]+$' | cut -d' ' -f1 | sort -V |
		tail -n1)
fi
[ -n "$pkg" ] || die "mainline-kernel: sid has no linux-source package"
version=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" \
	2>/dev/null | sed -n 's/^Version: //p' | head -n1) || true
[ -n "$version" ] || die "mainline-kernel: sid has no $pkg"
deb=$sid/archives/${pkg}_${version}_all.deb
tar=$sid/$pkg-$version/usr/src/$pkg.tar.xz
if [ ! -s "$tar" ]; then
	if [ ! -s "$deb" ]; then
		note "mainline-kernel: downloading $pkg $version from sid"
		(cd "$sid/archives" && apt-get "${apt_opts[@]}" -qq download \
			"$pkg=$version" >&2) ||
			die "mainline-kernel: cannot download $pkg $version"
	fi
	rm -rf "$sid/$pkg-$version.tmp"
	dpkg-deb -x "$deb" "$sid/$pkg-$version.tmp"
	mv -T "$sid/$pkg-$version.tmp" "$sid/$pkg-$version"
	# Only the newest source is kept.
	find "$sid" -mindepth 1 -maxdepth 1 -name 'linux-source-*' \
		! -name "$pkg-$version" -exec rm -rf {} +
	find "$sid/archives" -maxdepth 1 -name '*.deb' ! -name "${deb##*/}" \
		-delete
fi
exec 8>&-

exec "$EPM_ROOT/scripts/kernel-build.sh" mainline-kernel "$tar" "$version" \
	"$EPM_ROOT/scripts/mainline-kernel.config" -epm
