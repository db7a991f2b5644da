#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kqueue-realprog.sh [DIR]
#
# Builds a real program written for <sys/event.h>, unmodified, against the
# installed drop-in, for scripts/guest/realprogs.sh to run on the module:
# libevent, from Debian's source package (bookworm's, with Debian's
# patches), whose kqueue backend (kqueue.c) is what BSD systems run, with
# its own test programs (regress, test-eof, test-weof...). Prints DIR
# (default build/realprog/libevent) as the last line of stdout:
#
#   DIR/prefix/          libepollmod as "cmake --install" lays it out
#   DIR/src/             libevent's source, as dpkg-source extracts it
#   DIR/build/bin/       libevent's test programs, libevent linked in
#                        statically, libepollmod-kqueue.so through RPATH
#   DIR/build/bin/kqueue-probe   libevent's own "does kqueue work" check
#   DIR/version          the Debian version built
#
# libevent is configured with CMake, the way a user builds it, the compiler
# and linker flags from "pkg-config epollmod-kqueue": CMake's checks find
# <sys/event.h> and kqueue() there and compile in the kqueue backend. One
# answer is given rather than found: whether kqueue "works with pipes",
# which libevent learns by running a program, and this host has no module
# loaded (it is not the VM's kernel). That is a cross build's situation,
# and libevent's answer to it too (it assumes yes); the VM runs the very
# same program (kqueue-probe) on the module instead.
#
# The source package is fetched with a private apt configuration (deb-src
# for bookworm and bookworm-security): this machine's sources stay as they
# are. It and the package lists live in
# ${EPM_KERNEL_CACHE:-/var/cache/epollmod}/libevent/; the lists are fetched
# again when a week old, and a cached source is used when they cannot be.
# A build is redone from scratch when the source, the installed library
# or this script changes, else only brought up to date.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need apt-get apt
need dpkg-source dpkg-dev
need cmake cmake
need pkg-config pkg-config
need flock util-linux

dir=${1:-$EPM_BUILD/realprog/libevent}
cache=${EPM_KERNEL_CACHE:-/var/cache/epollmod}/libevent
if ! mkdir -p "$cache/lists/partial" "$cache/archives/partial" \
	"$cache/src" 2>/dev/null || [ ! -w "$cache" ]; then
	die "kqueue-realprog: cannot write $cache: run as root, or set EPM_KERNEL_CACHE"
fi
[ -e "$EPM_BUILD/lib/CMakeCache.txt" ] ||
	die "kqueue-realprog: build the library first (make lib)"
mkdir -p "$dir"
log=$dir/build.log
: >"$log"
# run CMD...: CMD's output to the log; on failure, its tail and a way out.
run() {
	"$@" >>"$log" 2>&1 && return
	tail -n 40 "$log" >&2
	die "kqueue-realprog: failed: $* (log: $log)"
}

# --- The source ------------------------------------------------------------
exec 8>"$cache/.lock"
flock 8
private_apt "$cache"
cat >"$cache/sources.list" <<EOF
deb-src [signed-by=$debian_keyring] http://deb.debian.org/debian bookworm main
deb-src [signed-by=$debian_keyring] http://deb.debian.org/debian-security bookworm-security main
EOF
if [ -z "$(find "$cache/updated" -mmin -10080 2>/dev/null)" ]; then
	note "kqueue-realprog: fetching bookworm's source lists"
	if apt-get "${apt_opts[@]}" -qq update >>"$log" 2>&1; then
		touch "$cache/updated"
	else
		note "kqueue-realprog: cannot fetch the source lists; trying the cache"
	fi
fi
# The newest libevent the lists know, else the newest one cached.
version=$(apt-cache "${apt_opts[@]}" showsrc libevent 2>/dev/null |
	sed -n 's/^Version: //p' | sort -V | tail -n1) || true
if [ -n "$version" ]; then
	dsc=$cache/src/libevent_${version#*:}.dsc
	if [ ! -s "$dsc" ]; then
		note "kqueue-realprog: downloading libevent $version's source"
		(cd "$cache/src" && apt-get "${apt_opts[@]}" -qq source \
			--download-only "libevent=$version" >>"$log" 2>&1) ||
			die "kqueue-realprog: cannot download libevent $version's source"
	fi
else
	dsc=$(find "$cache/src" -name 'libevent_*.dsc' | sort -V | tail -n1)
	[ -n "$dsc" ] ||
		die "kqueue-realprog: no libevent source: none in the lists, none in $cache/src"
	version=$(sed -n 's/^Version: //p' "$dsc")
fi
# dpkg-source checks the files against the .dsc's checksums.
if [ "$(cat "$dir/version" 2>/dev/null)" != "$version" ] ||
	[ ! -e "$dir/src/kqueue.c" ]; then
	rm -rf "$dir/src" "$dir/src.tmp" "$dir/build" "$dir/version"
	run dpkg-source --no-copy -x "$dsc" "$dir/src.tmp"
	mv -T "$dir/src.tmp" "$dir/src"
	echo "$version" >"$dir/version"
fi
exec 8>&-

# --- The drop-in, installed ------------------------------------------------
rm -rf "$dir/prefix"
run cmake --install "$EPM_BUILD/lib" --prefix "$dir/prefix"
pcdir=$(dirname "$(find "$dir/prefix" -name epollmod-kqueue.pc | head -n1)")
[ -f "$pcdir/epollmod-kqueue.pc" ] ||
	die "kqueue-realprog: the installed library has no epollmod-kqueue.pc"
export PKG_CONFIG_PATH=$pcdir
cflags=$(pkg-config --cflags epollmod-kqueue)
libs=$(pkg-config --libs epollmod-kqueue)
libdir=$(realpath "$(pkg-config --variable=libdir epollmod-kqueue)")
# The test programs find the library where it was installed, in the VM too
# (the guest sees the host's files at the same paths).
ldflags="-Wl,-rpath,$libdir"

# --- libevent ---------------------------------------------------------------
stamp=$( {
	echo "$version $cflags $libs $ldflags"
	cat "$0"
	find "$dir/prefix/include" -type f -print0 | sort -z |
		xargs -0 cat
} | sha256sum | cut -d' ' -f1)
if [ "$(cat "$dir/build/.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$dir/build"
	# pkg-config's libraries go where a library goes, after the objects:
	# into CMake's checks (CMAKE_REQUIRED_LIBRARIES, a list) and every
	# link (CMAKE_C_STANDARD_LIBRARIES). CFLAGS and LDFLAGS: read by CMake
	# as by configure.
	CFLAGS="-O2 -g $cflags" LDFLAGS="$ldflags" run cmake -S "$dir/src" \
		-B "$dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_REQUIRED_LIBRARIES="${libs// /;}" \
		-DCMAKE_C_STANDARD_LIBRARIES="$libs" \
		-DEVENT__LIBRARY_TYPE=STATIC \
		-DEVENT__DISABLE_OPENSSL=ON \
		-DEVENT__DISABLE_BENCHMARK=ON \
		-DEVENT__DISABLE_SAMPLES=ON \
		-DEVENT__HAVE_WORKING_KQUEUE=1
	echo "$stamp" >"$dir/build/.stamp"
fi
config=$dir/build/include/event2/event-config.h
grep -q '^#define EVENT__HAVE_KQUEUE 1' "$config" ||
	die "kqueue-realprog: libevent's configuration found no kqueue() in <sys/event.h> (log: $log)"
run cmake --build "$dir/build" -j"$(nproc)"

# libevent's "kqueue works with pipes" program, as its CMake check has it.
awk '/^" EVENT__HAVE_WORKING_KQUEUE\)/ { on = 0 } on { print }
	/^"$/ { on = 1 }' "$dir/src/cmake/CheckWorkingKqueue.cmake" \
	>"$dir/build/kqueue-probe.c"
grep -q 'kqueue()' "$dir/build/kqueue-probe.c" ||
	die "kqueue-realprog: no kqueue check in libevent's CheckWorkingKqueue.cmake"
# shellcheck disable=SC2086 # pkg-config's words
run cc -O2 $cflags -o "$dir/build/bin/kqueue-probe" \
	"$dir/build/kqueue-probe.c" $ldflags $libs

# Each program calls kqueue() and kevent() in libepollmod-kqueue.so.
for prog in regress test-eof kqueue-probe; do
	bin=$dir/build/bin/$prog
	# Read whole: grep -q would leave the pipe early (pipefail).
	grep -qw kevent <<<"$(nm -D --undefined-only "$bin")" ||
		die "kqueue-realprog: $prog does not call kevent()"
	grep -q 'NEEDED.*libepollmod-kqueue' <<<"$(readelf -d "$bin")" ||
		die "kqueue-realprog: $prog is not linked with libepollmod-kqueue"
done
echo "$dir"
