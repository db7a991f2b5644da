#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# dkms-check.sh [KERNELVERSION...]
#
# Proves that dkms.conf builds and installs epollmod.ko: dkms add, then
# dkms build and install for each kernel given (default: every kernel in
# /lib/modules with headers, and every kernel built here by
# scripts/kernel-build.sh, as the mainline one), checking the module built
# (version, vermagic, license, parameters) and where it went, then dkms
# remove. Run as root; prints one TAP line per check and exits non-zero on
# any failure.
#
# Safe to repeat and to run next to a real installation: dkms works in
# private trees (--sourcetree, --dkmstree, --installtree) under a temporary
# directory, without depmod, so /usr/src, /var/lib/dkms and /lib/modules
# are never touched. The one exception is dkms's module signing key,
# /var/lib/dkms/mok.{key,pub}, which dkms creates on first use; it is
# removed again if this run created it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

need dkms dkms
need modinfo kmod
[ "$(id -u)" = 0 ] || die "dkms-check.sh: dkms needs root"

# The build trees of the kernels built here, by release.
declare -A built=()
for dir in "${EPM_KERNEL_CACHE:-/var/cache/epollmod}"/*/; do
	[ -s "$dir/kver" ] && [ -s "$dir/bzImage" ] &&
		built[$(cat "$dir/kver")]=${dir%/}
done

if [ $# -gt 0 ]; then
	kernels=("$@")
else
	kernels=()
	for build in /lib/modules/*/build; do
		[ -d "$build" ] && kernels+=("$(basename "$(dirname "$build")")")
	done
	[ ${#kernels[@]} -gt 0 ] ||
		die "no kernel headers in /lib/modules: install linux-headers-amd64"
	kernels+=("${!built[@]}")
fi

# The one version (VERSION), and what dkms makes of dkms.conf, which reads it.
module_version=$(cat "$EPM_ROOT/VERSION")
version=$(bash -c '. "$1" && echo "$PACKAGE_VERSION"' _ "$EPM_ROOT/dkms.conf")

tmp=$(mktemp -d /tmp/epollmod-dkms.XXXXXX)
mok_key=/var/lib/dkms/mok.key
mok_pub=/var/lib/dkms/mok.pub
mok_existed=0
if [ -e "$mok_key" ] || [ -e "$mok_pub" ]; then
	mok_existed=1
fi
cleanup() {
	rm -rf "$tmp"
	[ $mok_existed = 1 ] || rm -f "$mok_key" "$mok_pub"
}
trap cleanup EXIT

failed=0
check() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok - dkms: $name"
	else
		echo "not ok - dkms: $name"
		sed 's/^/# /' "$tmp/out"
		failed=1
		return 1
	fi
}
dkms_() {
	dkms --sourcetree "$tmp/src" --dkmstree "$tmp/dkms" \
		--installtree "$tmp/modules" "$@"
}

same_version() {
	if [ -z "$version" ] || [ "$version" != "$module_version" ]; then
		echo "dkms.conf PACKAGE_VERSION '$version' differs from" \
			"VERSION '$module_version'"
		return 1
	fi
}

# What a source package ships: the module's sources, none of the build
# output a working tree accumulates (build/ can hold a whole kernel).
stage() {
	mkdir -p "$tmp/tree/module" "$tmp/src" "$tmp/dkms" \
		"${kernels[@]/#/$tmp/modules/}" &&
		cp "$EPM_ROOT/dkms.conf" "$EPM_ROOT/Kbuild" "$EPM_ROOT/VERSION" \
			"$tmp/tree/" &&
		cp "$EPM_ROOT"/module/*.[ch] "$tmp/tree/module/" &&
		cp -r "$EPM_ROOT/uapi" "$tmp/tree/"
}

# modinfo shows what a user of the module looks for.
check_module() {
	local kver=$1 ko info
	ko=$(find "$tmp/dkms/epollmod/$version/$kver" -name 'epollmod.ko*' |
		head -n1)
	[ -n "$ko" ] || { echo "dkms kept no module for $kver"; return 1; }
	info=$(modinfo "$ko") || return 1
	echo "$info"
	grep -qx "version: *$version" <<<"$info" &&
		grep -q "^vermagic: *$kver " <<<"$info" &&
		grep -qx "license: *GPL" <<<"$info" &&
		grep -q "^description: *." <<<"$info" &&
		grep -q "^parm: *max_user_watches:" <<<"$info"
}

# Compressed (.ko.xz, ...) if the kernel's modules are.
installed() {
	ls -l "$tmp/modules/$1/updates/dkms/"epollmod.ko*
}

all_installed() {
	local status
	status=$(dkms_ status epollmod)
	echo "$status"
	[ "$(grep -c ': installed$' <<<"$status")" = ${#kernels[@]} ]
}

start=$SECONDS
check "PACKAGE_VERSION is VERSION" same_version
check "stage the module sources" stage
check "add" dkms_ add "$tmp/tree"
for kver in "${kernels[@]}"; do
	source_dir=()
	[ -z "${built[$kver]:-}" ] ||
		source_dir=(--kernelsourcedir "${built[$kver]}")
	check "build for $kver" dkms_ build "epollmod/$version" -k "$kver" \
		"${source_dir[@]}" ||
		find "$tmp/dkms" -name make.log -exec tail -n 30 {} + |
		sed 's/^/# /'
	check "modinfo of the module built for $kver" check_module "$kver"
	check "install for $kver" dkms_ install "epollmod/$version" \
		-k "$kver" --no-depmod &&
		check "installed in updates/dkms for $kver" installed "$kver"
done
check "status lists every kernel" all_installed
check "remove" dkms_ remove "epollmod/$version" --all
echo "# dkms-check took $((SECONDS - start))s"
exit $failed
