#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Proves that the test appliance fails a run when the module misbehaves.
#
# A copy of the module built with EPOLLMOD_WARN_ON_OPEN WARNs on every open
# of /dev/epollmod. In one VM boot:
#  1. with panic_on_warn switched off, a selftest that opens an instance
#     must be failed by the harness's kernel-log check, though its
#     assertions pass;
#  2. with panic_on_warn back on (as in every run), the next open must
#     panic the guest, and the VM run must end without a result (exit 125)
#     and with the WARNING on its console.
# A second, short boot runs a job that never ends: the host-side time limit
# must fail that run, with the console's tail.
# Prints one TAP line per check.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-/lib/modules/$(distro_kver)/build}
src=$EPM_BUILD/selfcheck/src
if ! module_build "$kdir" "$src" EPOLLMOD_WARN_ON_OPEN=y; then
	echo "not ok - build the WARN_ON_OPEN module"
	sed 's/^/# /' "$src/build.log"
	exit 1
fi

out=$EPM_BUILD/selfcheck/vm.out
"$EPM_ROOT/scripts/vm.sh" --name selfcheck --timeout 600 -- \
	scripts/guest/selfcheck.sh "$src/epollmod.ko" "$EPM_BUILD/selftests" \
	>"$out" 2>&1
status=$?
console=$EPM_BUILD/vm/selfcheck/console.log

if grep -q '^SELFCHECK harness: failed the test' "$out"; then
	echo "ok - a test whose run logged a WARNING fails"
else
	echo "not ok - a test whose run logged a WARNING fails"
	sed 's/^/# /' "$out"
fi
if [ $status = 125 ] && ! grep -q '^SELFCHECK panic: survived' "$out" &&
	grep -q 'WARNING:' "$console" && grep -q 'panic_on_warn' "$console"; then
	echo "ok - a WARN panics the guest and the run reports no result"
else
	echo "not ok - a WARN panics the guest and the run reports no result (vm.sh exit $status)"
	sed 's/^/# /' "$out"
fi

hang_out=$EPM_BUILD/selfcheck/hang.out
"$EPM_ROOT/scripts/vm.sh" --name selfcheck-hang --timeout 20 -- sleep 600 \
	>"$hang_out" 2>&1
status=$?
if [ $status = 125 ] && grep -q "hung: no result after 20s" "$hang_out" &&
	grep -q 'last 60 lines' "$hang_out"; then
	echo "ok - a hung guest fails the run, showing the console's tail"
else
	echo "not ok - a hung guest fails the run, showing the console's tail (vm.sh exit $status)"
	sed 's/^/# /' "$hang_out"
fi
