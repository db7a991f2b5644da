#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# install_test.sh BUILD_DIR LIBDIR CONSUMER_DIR
#
# make install, tested. Installs BUILD_DIR into a fresh prefix
# (BUILD_DIR/install-test/prefix), checks that every file a user needs is
# there, then builds the consumer against that prefix twice, with CMake's
# find_package(epollmod) and with pkg-config, and runs both builds. On the
# host the module is not loaded (and EPOLLMOD_DEVICE names no device, so
# the same holds in the VM): each build must link the installed library
# and report that the module is not loaded. Last, a <sys/event.h> program
# is built with pkg-config epollmod-kqueue and run the same way.
set -euo pipefail

build=$1 libdir=$2 consumer=$3
cmake=${CMAKE:-cmake}
cxx=${CXX:-c++}
work=$build/install-test
prefix=$work/prefix

fail() {
	echo "install_test: $*" >&2
	exit 1
}

rm -rf "$work"
"$cmake" --install "$build" --prefix "$prefix" >"$work.log" ||
	fail "cmake --install failed: $(cat "$work.log")"

for file in include/epollmod/epollmod.h include/epollmod/epollmod.hpp \
	include/linux/epollmod.h "$libdir/libepollmod.so" \
	"$libdir/libepollmod.a" "$libdir/pkgconfig/epollmod.pc" \
	"$libdir/cmake/epollmod/epollmodConfig.cmake" \
	"$libdir/cmake/epollmod/epollmodConfigVersion.cmake" \
	"$libdir/cmake/epollmod/epollmodTargets.cmake" \
	share/man/man7/epollmod.7 share/man/man3/epollmod_create1.3 \
	share/man/man3/epollmod_create.3 share/man/man3/epollmod_ctl.3 \
	share/man/man3/epollmod_wait.3 share/man/man3/epollmod_pwait.3 \
	share/man/man3/epollmod_pwait2.3 share/man/man3/epollmod_is_instance.3 \
	share/man/man3/epollmod_device_path.3 \
	include/epollmod/kqueue.h include/epollmod/kqueue.hpp \
	include/epollmod/kqueue/sys/event.h "$libdir/libepollmod-kqueue.so" \
	"$libdir/libepollmod-kqueue.a" "$libdir/pkgconfig/epollmod-kqueue.pc" \
	share/man/man3/epollmod_kqueue.3 share/man/man3/epollmod_kevent.3 \
	share/man/man3/epollmod_wait_batch.3 \
	share/man/man3/epollmod_kevent_batch.3 \
	share/man/man3/epollmod_set_options.3 \
	share/man/man3/epollmod_wait_changes.3 include/epollmod/ring.h \
	share/man/man3/epollmod_ring_setup.3 \
	share/man/man3/epollmod_ring_wait.3; do
	[ -f "$prefix/$file" ] || fail "not installed: $file"
done
# The pages that share one are links to it, and man finds every page.
[ "$(readlink "$prefix/share/man/man3/epollmod_pwait2.3")" = epollmod_wait.3 ] ||
	fail "epollmod_pwait2.3 is not a link to epollmod_wait.3"
[ "$(readlink "$prefix/share/man/man3/epollmod_kevent_batch.3")" = \
	epollmod_wait_batch.3 ] ||
	fail "epollmod_kevent_batch.3 is not a link to epollmod_wait_batch.3"
for page in epollmod.7 epollmod_create.3 epollmod_pwait.3 epollmod_kevent.3; do
	MANPATH=$prefix/share/man man -w "${page%.*}" >/dev/null 2>&1 ||
		fail "man does not find ${page%.*} under $prefix/share/man"
done

# A consumer build must use the installed library, and run like one.
check_consumer() {
	local program=$1 libs out status=0
	libs=$(ldd "$program")
	grep -q "libepollmod.so.0 => $prefix/$libdir/" <<<"$libs" ||
		fail "$program does not load the installed libepollmod: $libs"
	out=$(EPOLLMOD_DEVICE=/nonexistent/epollmod "$program" 2>&1) || status=$?
	if [ "$status" != 1 ] || ! grep -q 'kernel module not loaded' <<<"$out"; then
		fail "$program exited $status without the module: $out"
	fi
	echo "$program: $out"
}

# CMake: find_package(epollmod) with the prefix on CMAKE_PREFIX_PATH.
"$cmake" -S "$consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_CXX_COMPILER="$cxx" >"$work/cmake.log" 2>&1 ||
	fail "configure failed: $(cat "$work/cmake.log")"
grep -qx "epollmod_DIR:PATH=$prefix/$libdir/cmake/epollmod" \
	"$work/cmake/CMakeCache.txt" ||
	fail "find_package(epollmod) found another copy: $(grep epollmod_DIR "$work/cmake/CMakeCache.txt")"
"$cmake" --build "$work/cmake" >>"$work/cmake.log" 2>&1 ||
	fail "build failed: $(cat "$work/cmake.log")"
check_consumer "$work/cmake/consumer"

# pkg-config, from the prefix the .pc file was installed under.
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig
pc_prefix=$(pkg-config --variable=prefix epollmod)
[ "$(realpath "$pc_prefix")" = "$(realpath "$prefix")" ] ||
	fail "epollmod.pc has prefix $pc_prefix, installed in $prefix"
# shellcheck disable=SC2046 # the flags are words
"$cxx" -std=c++20 -Wall -Wextra -Werror -o "$work/consumer-pkgconfig" \
	"$consumer/consumer.cc" $(pkg-config --cflags --libs epollmod) ||
	fail "build with pkg-config failed"
LD_LIBRARY_PATH=$prefix/$libdir check_consumer "$work/consumer-pkgconfig"

# The drop-in: a program written to <sys/event.h>, built with nothing but
# pkg-config epollmod-kqueue, on the installed header and library.
cat >"$work/kq.c" <<'EOF_C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/event.h>

int main(void)
{
	struct kevent ev;
	int kq = kqueue();

	if (kq < 0) {
		printf("kqueue: %s\n", strerror(errno));
		EV_SET(&ev, 0, EVFILT_USER, EV_ADD, 0, 0, NULL);
		return kevent(-1, &ev, 1, NULL, 0, NULL) == -1 &&
				       errno == EBADF ?
			       1 :
			       2;
	}
	printf("kqueue: %d\n", kq);
	return 0;
}
EOF_C
cc=${CC:-cc}
# shellcheck disable=SC2046 # the flags are words
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/kq" "$work/kq.c" \
	$(pkg-config --cflags --libs epollmod-kqueue) ||
	fail "build of a <sys/event.h> program with pkg-config failed"
libs=$(LD_LIBRARY_PATH=$prefix/$libdir ldd "$work/kq")
grep -q "libepollmod-kqueue.so.0 => $prefix/$libdir/" <<<"$libs" ||
	fail "$work/kq does not load the installed libepollmod-kqueue: $libs"
status=0
out=$(LD_LIBRARY_PATH=$prefix/$libdir EPOLLMOD_DEVICE=/nonexistent/epollmod \
	"$work/kq" 2>&1) || status=$?
if [ "$status" != 1 ] || [ "$out" != "kqueue: No such device" ]; then
	fail "$work/kq exited $status without the module: $out"
fi
echo "$work/kq: $out"
