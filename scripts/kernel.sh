#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kernel.sh KERNEL: makes KERNEL ready for the test VM, installing or
# building it first if it has to, and prints what the other scripts need:
#
#   kver=RELEASE      its release string (vm.sh --kver)
#   kdir=DIR          the build tree modules build against
#   image=FILE        the image the VM boots (vm.sh --kernel)
#   modules=DIR       where lib/modules/RELEASE is (vm.sh --modules)
#
# KERNEL is a release string or one of:
#   6.1, distro   Debian 12's kernel, the one linux-image-amd64 points to
#   6.12          bookworm-backports' 6.12 (scripts/deps.sh 6.12 installs it)
#   mainline      the newest mainline Debian carries, built from sid's
#                 linux-source-N.M (scripts/mainline-kernel.sh)
#   N.M           another linux-source-N.M from sid, built the same way
#   debug         the KASAN/lockdep/kmemleak 6.1 (scripts/debug-kernel.sh)
# A release string is an installed kernel, one built here (the kver of a
# cached build), or a Debian linux-image-RELEASE to install.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || die "usage: kernel.sh KERNEL"
cache=${EPM_KERNEL_CACHE:-/var/cache/epollmod}

# debian RELEASE: an installed Debian kernel, image and headers.
debian() {
	[ -r "/boot/vmlinuz-$1" ] && [ -d "/lib/modules/$1/build" ] || return 1
	printf 'kver=%s\nkdir=%s\nimage=%s\nmodules=/\n' "$1" \
		"/lib/modules/$1/build" "/boot/vmlinuz-$1"
}

# built DIR: a kernel built here (scripts/kernel-build.sh's layout).
built() {
	[ -s "$1/bzImage" ] && [ -s "$1/kver" ] || return 1
	printf 'kver=%s\nkdir=%s\nimage=%s\nmodules=%s\n' "$(cat "$1/kver")" \
		"$1" "$1/bzImage" "$1/modroot"
}

# newest_612: the newest installed Debian 6.12.
newest_612() {
	local build release found=
	for build in /lib/modules/6.12.*+deb12-amd64/build; do
		release=${build#/lib/modules/}
		release=${release%/build}
		[ -d "$build" ] && [ -r "/boot/vmlinuz-$release" ] &&
			found+="$release"$'\n'
	done
	[ -n "$found" ] || return 1
	sort -V <<<"$found" | tail -n1
}

case $1 in
6.1 | distro)
	debian "$(distro_kver)" ||
		die "the distro kernel or its headers are missing: run scripts/deps.sh"
	;;
6.12)
	release=$(newest_612) || {
		"$EPM_ROOT/scripts/deps.sh" 6.12 >&2
		release=$(newest_612)
	} || die "no 6.12 kernel installed"
	debian "$release"
	;;
mainline)
	dir=$("$EPM_ROOT/scripts/mainline-kernel.sh" | tail -n1)
	built "$dir"
	;;
debug)
	dir=$("$EPM_ROOT/scripts/debug-kernel.sh" | tail -n1)
	built "$dir"
	;;
[0-9]*.[0-9]*)
	if [[ $1 =~ ^[0-9]+\.[0-9]+$ ]]; then
		dir=$(EPM_MAINLINE_SOURCE=linux-source-$1 \
			"$EPM_ROOT/scripts/mainline-kernel.sh" | tail -n1)
		built "$dir"
		exit
	fi
	debian "$1" && exit
	for dir in "$cache"/*/; do
		[ "$(cat "$dir/kver" 2>/dev/null)" = "$1" ] && built "${dir%/}" &&
			exit
	done
	"$EPM_ROOT/scripts/deps.sh" "$1" >&2
	debian "$1" || die "kernel $1: no image or headers after installing"
	;;
*) die "unknown kernel '$1': a release string, 6.1, 6.12, mainline or debug" ;;
esac
