#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kernel-build.sh NAME TARBALL SRCVERSION FRAGMENT LOCALVERSION
#
# Builds, once, a kernel for the test VM from a Debian linux-source
# tarball (TARBALL, of package version SRCVERSION) configured as
# allnoconfig plus FRAGMENT, and prints the directory that holds it as the
# last line of stdout. scripts/debug-kernel.sh and scripts/mainline-kernel.sh
# are its callers. A build stops with the list of requested options that did
# not make it into .config.
#
# It is cached, outside the repository, in
#   ${EPM_KERNEL_CACHE:-/var/cache/epollmod}/NAME-SRCVERSION-HASH
# (HASH: of the fragment and the compiler and linker versions). A run that
# finds it only prints it. Builds happen in a temporary directory beside
# it, renamed into place when complete, one NAME at a time; an interrupted
# build leaves nothing used. The two newest builds of each NAME are kept.
# The release string ends in LOCALVERSION-HASH, so that the VM's initramfs,
# cached by release, is never one made for another configuration.
#
# The directory is the kernel's build tree, plus:
#   bzImage   the kernel (vm.sh --kernel)
#   kver      its release string (vm.sh --kver)
#   modroot/  lib/modules/KVER with modules.builtin and depmod's indexes
#             (vm.sh --modules): everything is built in
# Out-of-tree modules build against it: make -C DIR M=/path/to/src modules
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 5 ] || die "usage: kernel-build.sh NAME TARBALL SRCVERSION FRAGMENT LOCALVERSION"
kname=$1
src_tar=$2
src_version=$3
fragment=$4
localversion=$5
cache=${EPM_KERNEL_CACHE:-/var/cache/epollmod}

# Every missing package at once: TOOL:PACKAGE, or /FILE:PACKAGE.
missing=()
for dep in gcc:gcc make:make bison:bison flex:flex bc:bc perl:perl \
	xz:xz-utils depmod:kmod flock:util-linux /usr/include/gelf.h:libelf-dev; do
	what=${dep%:*}
	case $what in
	/*) [ -e "$what" ] ;;
	*) command -v "$what" >/dev/null 2>&1 ;;
	esac || missing+=("${dep##*:}")
done
[ ${#missing[@]} -eq 0 ] ||
	die "$kname: missing packages: ${missing[*]}
install them with: apt-get install ${missing[*]}  (or: make deps)"
[ -r "$src_tar" ] || die "$kname: no kernel source $src_tar"
[ -r "$fragment" ] || die "$kname: no config fragment $fragment"

hash=$({
	cat "$fragment"
	gcc --version | head -n1
	ld --version | head -n1
} | sha256sum | cut -c1-12)
name=$kname-$src_version-$hash
dir=$cache/$name

if [ -s "$dir/bzImage" ]; then
	echo "$dir"
	exit 0
fi

if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
	die "$kname: cannot write $cache: run as root, or set EPM_KERNEL_CACHE"
fi
exec 9>"$cache/.$kname.lock"
if ! flock -n 9; then
	note "$kname: waiting for another build to finish"
	flock 9
fi
if [ -s "$dir/bzImage" ]; then
	echo "$dir"
	exit 0
fi

# Holding the lock, no other build of NAME is running: what is left of an
# earlier one was interrupted.
rm -rf "$cache/.tmp-$kname-"*
tmp=$(mktemp -d "$cache/.tmp-$kname-XXXXXX")
chmod 755 "$tmp"
job=
cleanup() {
	[ -z "$job" ] || kill "$job" 2>/dev/null || true
	[ -z "$job" ] || wait "$job" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# The log stays beside the cache if the build fails, and moves into it if
# the build succeeds.
log=$cache/$name.log
: >"$log"
# run STEP COMMAND...: COMMAND's output goes to the log; a failure shows its
# tail. It runs in the background so that a signal ends it at once.
run() {
	local step=$1 status=0
	shift
	echo "== $step: $*" >>"$log"
	"$@" >>"$log" 2>&1 </dev/null &
	job=$!
	wait "$job" || status=$?
	job=
	if [ $status != 0 ]; then
		note "$kname: $step failed (exit $status); the end of $log:"
		tail -n 40 "$log" | sed 's/^/  | /' >&2
		exit 1
	fi
}

ncpu=$(nproc)
note "$kname: building $name with $ncpu jobs (about 10 min on 2 cores)"
start=$SECONDS
run extract tar -xJf "$src_tar" -C "$tmp" --strip-components=1

kconfig=$tmp/$kname.config
{
	cat "$fragment"
	echo "CONFIG_LOCALVERSION=\"$localversion-${hash:0:8}\""
} >"$kconfig"
run configure make -C "$tmp" KCONFIG_ALLCONFIG="$kconfig" allnoconfig

# Kconfig drops what it cannot satisfy without a word: say what it dropped.
unmet=$(awk '
	FNR == NR {
		if (match($0, /^CONFIG_[A-Za-z0-9_]+=/))
			have[substr($0, 1, RLENGTH - 1)] = substr($0, RLENGTH + 1)
		next
	}
	/^CONFIG_/ {
		sym = $0
		sub(/=.*/, "", sym)
		if (!(sym in have))
			print "  " $0 "  (got: not set)"
		else if (have[sym] != substr($0, length(sym) + 2))
			print "  " $0 "  (got: " sym "=" have[sym] ")"
		next
	}
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ && ($2 in have) {
		print "  " $0 "  (got: " $2 "=" have[$2] ")"
	}' "$tmp/.config" "$kconfig")
if [ -n "$unmet" ]; then
	cp "$tmp/.config" "$cache/$name.config"
	die "$kname: these options of $fragment did not survive Kconfig
(an unmet dependency or a typo; the result is $cache/$name.config):
$unmet"
fi

run build make -C "$tmp" -j"$ncpu" all

kver=$(cat "$tmp/include/config/kernel.release")
echo "$kver" >"$tmp/kver"
ln -s arch/x86/boot/bzImage "$tmp/bzImage"
modlib=$tmp/modroot/lib/modules/$kver
mkdir -p "$modlib"
cp "$tmp/modules.builtin" "$tmp/modules.builtin.modinfo" "$modlib/"
sed 's:^:kernel/:' "$tmp/modules.order" >"$modlib/modules.order"
run depmod depmod -b "$tmp/modroot" "$kver"
mv "$log" "$tmp/$kname.log"
rm -f "$cache/$name.config"

mv -T "$tmp" "$dir"
trap - EXIT
# Each build is 1 to 2 GB: keep this one and the one before it.
ls -dt "$cache/$kname"-*/ | tail -n +3 | while read -r old; do
	note "$kname: removing the older build $old"
	rm -rf "$old"
done
note "$kname: built $kver in $((SECONDS - start))s"
echo "$dir"
