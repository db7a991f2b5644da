#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# debug-kernel-selfcheck.sh: proves, in one VM boot, that the debug kernel
# has its detectors on and that scripts/guest/debug-checks.sh reports
# leaks, and only leaks. The leak is the kernel's own sample module
# (samples/kmemleak/kmemleak-test.c, built from the cached tree): it
# orphans a few allocations when loaded and a list when removed.
# Prints one TAP line per check ("ok - ..." / "not ok - ...").
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kdir=$("$EPM_ROOT/scripts/debug-kernel.sh") || exit 1

src=$EPM_BUILD/debug-kernel/kmemleak-test
rm -rf "$src"
mkdir -p "$src"
cp "$kdir/samples/kmemleak/kmemleak-test.c" "$src/"
echo 'obj-m := kmemleak-test.o' >"$src/Kbuild"
if ! make -s -C "$kdir" M="$src" modules >"$src/build.log" 2>&1; then
	echo "not ok - build the kmemleak sample module"
	sed 's/^/# /' "$src/build.log"
	exit 1
fi

# shellcheck disable=SC2016 # expanded in the guest
guest='for f in /proc/lockdep /sys/kernel/debug/kmemleak \
	/sys/kernel/debug/failslab /sys/kernel/debug/fail_page_alloc \
	/proc/self/fail-nth; do
	[ -e "$f" ] || echo "MISSING $f"
done
dmesg | grep -q "KernelAddressSanitizer initialized" || echo "MISSING KASAN"
scripts/guest/debug-checks.sh clear
scripts/guest/debug-checks.sh check
echo "CLEAN EXIT $?"
insmod "$1" && rmmod kmemleak_test
scripts/guest/debug-checks.sh check
echo "LEAK EXIT $?"'
out=$EPM_BUILD/debug-kernel/selfcheck.out
"$EPM_ROOT/scripts/vm.sh" --name debug-kernel-selfcheck --timeout 600 \
	--kernel "$kdir/bzImage" --kver "$(cat "$kdir/kver")" \
	--modules "$kdir/modroot" -- \
	bash -c "$guest" selfcheck "$src/kmemleak-test.ko" >"$out" 2>&1
status=$?
failed=0

# report STATUS DESCRIPTION: a TAP line for a check's exit status.
report() {
	if [ "$1" = 0 ]; then
		echo "ok - $2"
	else
		echo "not ok - $2"
		failed=1
	fi
}

missing=$(sed -n 's/^MISSING //p' "$out" | tr '\n' ' ')
[ -z "$missing" ]
report $? "the kernel has KASAN, lockdep, kmemleak and fault injection${missing:+ (missing: $missing)}"
grep -qx "ok - kmemleak: no leaks" "$out" && grep -qx "CLEAN EXIT 0" "$out"
report $? "debug-checks: a clean kernel passes"
grep -q "^not ok - kmemleak: [1-9][0-9]* leaks$" "$out" &&
	grep -q '^#   comm "insmod"' "$out" && grep -qx "LEAK EXIT 1" "$out"
report $? "debug-checks: a leaking module fails, with kmemleak's report"
[ $status = 125 ]
report $? "vm.sh fails a run whose kmemleak scan found leaks (exit 125)"
[ $failed = 0 ] || sed 's/^/# /' "$out"
exit $failed
