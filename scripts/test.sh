#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test: every check, one TAP listing, one closing line.
#
#   host       the library's ctest suite (needs no module), the benchmark
#              report's own tests
#   vm         every selftest in a VM on the distro kernel: differential
#              tests against native epoll and epollmod in the same boot
#   realprogs  Python's asyncio and Redis, unmodified, on the module through
#              the LD_PRELOAD shim, and libevent's test suite on its kqueue
#              backend through the drop-in <sys/event.h>, proved by the
#              module's counters
#   debug      every test again on a KASAN/lockdep/kmemleak kernel (built
#              once, cached), the stress for 60 s, then a kmemleak scan
#   selfcheck  the appliance fails a run when the module WARNs or hangs,
#              and the debug kernel's detectors report what they should
#
# Prints "N passed, N failed, N skipped" last; exits non-zero on any
# failure, splat, hang or crash. EPM_TESTS=GLOB narrows the VM selftests.
#
# EPM_KVER=KERNEL (make test KVER=...) runs the host tests, then builds the
# module for KERNEL (scripts/kernel.sh: 6.1, 6.12, mainline, a release
# string...) under build/kernels/RELEASE/ and runs the selftests and the
# real programs on KERNEL in the VM; the debug kernel and the selfchecks,
# which are about 6.1's debug kernel, are left out.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

start=$SECONDS
n=0 passed=0 failed=0 skipped=0

echo "TAP version 13"

# Host: the library's own tests.
host_tests() {
	local out status
	out=$(mktemp)
	(cd "$EPM_BUILD/lib" && ctest --output-on-failure) >"$out" 2>&1
	status=$?
	awk '/Test +#[0-9]+: / {
		for (i = 1; i <= NF; i++) if ($i ~ /^#[0-9]+:$/) name = $(i + 1)
		print (/ Passed /) ? "ok - " name : "not ok - " name
	}' "$out" | tee "$out.tap"
	if [ $status != 0 ]; then
		sed 's/^/# /' "$out"
		grep -q '^not ok' "$out.tap" || phase ctest 2
	fi
	rm -f "$out" "$out.tap"
}
tap "host: " < <(host_tests)
tap "host: " < <(python3 "$EPM_ROOT/bench/report_test.py" >/dev/null 2>&1 &&
	echo "ok - bench report" || echo "not ok - bench report")

# The kernel the VM boots, and the module built for it.
ko=$EPM_ROOT/epollmod.ko
vm=("$EPM_ROOT/scripts/vm.sh")
suffix=
# build_module: the module for EPM_KVER's kernel, as a TAP line.
build_module() {
	if module_build "$kernel_kdir" "$dir"; then
		echo "ok - build epollmod.ko for $kernel_kver"
	else
		echo "not ok - build epollmod.ko for $kernel_kver"
		sed 's/^/# /' "$dir/build.log"
	fi
}
if [ -n "${EPM_KVER:-}" ]; then
	if ! kernel_select "$EPM_KVER" 2>&1; then
		tap "vm: " < <(echo "not ok - kernel $EPM_KVER: installed or built")
		echo "1..$n"
		echo "$passed passed, $failed failed"
		exit 1
	fi
	echo "# kernel $EPM_KVER: $kernel_kver ($kernel_image)"
	vm+=(--kernel "$kernel_image" --kver "$kernel_kver"
		--modules "$kernel_modules")
	suffix=-$kernel_kver
	dir=$EPM_BUILD/kernels/$kernel_kver/module
	ko=$dir/epollmod.ko
	tap "vm: " < <(build_module)
fi

# VM: the selftests, on the distro kernel (or EPM_KVER's).
vm_selftests() {
	"${vm[@]}" --name "selftests$suffix" -- \
		scripts/guest/selftests.sh "$ko" \
		"$EPM_BUILD/selftests" "${EPM_TESTS:-*}" 2>&1
	phase "selftests run" $?
}
tap "vm: " < <(vm_selftests)

# Real programs through the shim, and libevent built against the drop-in
# <sys/event.h> (on the host, first), in a boot of their own.
vm_realprogs() {
	local libevent=$EPM_BUILD/realprog/libevent
	mkdir -p "$EPM_BUILD/realprog"
	if "$EPM_ROOT/scripts/kqueue-realprog.sh" "$libevent" >/dev/null \
		2>"$libevent.log"; then
		echo "ok - realprogs: libevent's kqueue backend built against the installed <sys/event.h>"
	else
		echo "not ok - realprogs: libevent's kqueue backend built against the installed <sys/event.h>"
		sed 's/^/# /' "$libevent.log"
		libevent=
	fi
	"${vm[@]}" --name "realprogs$suffix" -- \
		scripts/guest/realprogs.sh "$ko" \
		"$EPM_BUILD/lib/libepollmod-preload.so" "$libevent" 2>&1
	phase "realprogs run" $?
}
tap "vm: " < <(vm_realprogs)

if [ -n "${EPM_KVER:-}" ]; then
	echo "# not run on $EPM_KVER: the debug kernel and the selfchecks (make test runs them)"
	debug=0
else
	debug=1
fi

# The debug kernel: fault injection runs there, the stress longer.
vm_debug() {
	EPM_STRESS_SECONDS=${EPM_STRESS_SECONDS:-60} \
		"$EPM_ROOT/scripts/debug-kernel-test.sh" "${EPM_TESTS:-*}" 2>&1
	phase "debug kernel run" $?
}
if [ $debug = 1 ]; then
	tap "debug: " < <(vm_debug)

	# The appliance fails a run when the module WARNs, both ways, and the
	# debug kernel's detectors work.
	tap "selfcheck: " < <("$EPM_ROOT/scripts/selfcheck.sh" 2>&1)
	tap "selfcheck: " < <("$EPM_ROOT/scripts/debug-kernel-selfcheck.sh" 2>&1)
fi

elapsed=$((SECONDS - start))
echo "1..$n"
echo "# make test took ${elapsed}s"
summary="$passed passed, $failed failed"
[ $skipped = 0 ] || summary+=", $skipped skipped"
echo "$summary"
[ $failed = 0 ] && [ $n -gt 0 ]
