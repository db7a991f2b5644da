#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# debug-kernel-test.sh [GLOB]: every selftest (or those GLOB names) on the
# debug kernel, KASAN, lockdep and kmemleak watching.
#
# Builds the debug kernel if it is not cached (scripts/debug-kernel.sh),
# builds epollmod.ko against it with debug info (for scripts/faddr2line),
# and in one VM boot: clears kmemleak, runs scripts/guest/selftests.sh, and
# checks kmemleak (scripts/guest/debug-checks.sh). Prints their TAP lines
# ("ok - ...", "not ok - ...") and "# " notes with the boot and test times;
# exits as vm.sh does: 0, 1 when a test failed, 125 for a crash, a hang or
# a splat on the console (its full text is in build/vm/debug-kernel/).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

glob=${1:-*}
kdir=$("$EPM_ROOT/scripts/debug-kernel.sh") || exit 1

src=$EPM_BUILD/debug-kernel/module
if ! module_build "$kdir" "$src" KCFLAGS=-g; then
	echo "not ok - build epollmod.ko for the debug kernel"
	sed 's/^/# /' "$src/build.log"
	exit 1
fi

# shellcheck disable=SC2016 # expanded in the guest
guest='echo "# booted in $(cut -d" " -f1 /proc/uptime)s"
scripts/guest/debug-checks.sh clear || exit 1
start=$(date +%s)
scripts/guest/selftests.sh "$1" "$2" "$3"
status=$?
echo "# selftests took $(($(date +%s) - start))s"
scripts/guest/debug-checks.sh check || status=1
# What the console did not show (loglevel below), for the host to scan.
dmesg >&2
exit $status'
# The console shows only messages above KERN_ERR: on 6.1, a message printed
# from hard irq context (hrtimer: interrupt took ... ns, on a busy host)
# makes the serial console take its spinlock_t there, which
# PROVE_RAW_LOCK_NESTING reports once and then turns lockdep off. Every
# message still reaches dmesg, which the selftests check after each test
# and the job prints at its end; a panic replays the whole log
# (panic_print=0x20).
exec "$EPM_ROOT/scripts/vm.sh" --name debug-kernel --kernel "$kdir/bzImage" \
	--kver "$(cat "$kdir/kver")" --modules "$kdir/modroot" \
	--append "loglevel=3 panic_print=0x20" -- \
	bash -c "$guest" debug-kernel "$src/epollmod.ko" "$EPM_BUILD/selftests" \
	"$glob"
