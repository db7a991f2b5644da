#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test: every check, one TAP listing, one closing line.
#
#   host       the library's ctest suite (needs no module), the benchmark
#              report's own tests
#   vm         every selftest in a VM on the distro kernel: differential
#              tests against native epoll and epollmod in the same boot
#   realprogs  Python's asyncio and Redis, unmodified, on the module through
#              the LD_PRELOAD shim, proved by the module's counters
#   debug      every test again on a KASAN/lockdep/kmemleak kernel (built
#              once, cached), the stress for 60 s, then a kmemleak scan
#   selfcheck  the appliance fails a run when the module WARNs or hangs,
#              and the debug kernel's detectors report what they should
#
# Prints "N passed, N failed, N skipped" last; exits non-zero on any
# failure, splat, hang or crash. EPM_TESTS=GLOB narrows the VM selftests.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

start=$SECONDS
n=0 passed=0 failed=0 skipped=0

# Renumber "ok - x" / "not ok - x" lines into one TAP stream; pass the rest.
tap() {
	local prefix=$1 line
	while IFS= read -r line; do
		case $line in
		"ok - "*" # SKIP"*)
			n=$((n + 1)) skipped=$((skipped + 1))
			echo "ok $n $prefix${line#ok - }" ;;
		"ok - "*)
			n=$((n + 1)) passed=$((passed + 1))
			echo "ok $n $prefix${line#ok - }" ;;
		"not ok - "*)
			n=$((n + 1)) failed=$((failed + 1))
			echo "not ok $n $prefix${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done
}

# A phase that failed without naming a failed test (a crash, a hang, a tool
# that did not run) still fails the run. Status 1 means it named them.
phase() {
	case $2 in
	0 | 1) ;;
	125) echo "not ok - $1: the VM crashed, hung or logged a splat" ;;
	*) echo "not ok - $1: exit status $2" ;;
	esac
}

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

# VM: the selftests, on the distro kernel.
vm_selftests() {
	"$EPM_ROOT/scripts/vm.sh" --name selftests -- \
		scripts/guest/selftests.sh "$EPM_ROOT/epollmod.ko" \
		"$EPM_BUILD/selftests" "${EPM_TESTS:-*}" 2>&1
	phase "selftests run" $?
}
tap "vm: " < <(vm_selftests)

# Real programs through the shim, in a boot of their own.
vm_realprogs() {
	"$EPM_ROOT/scripts/vm.sh" --name realprogs -- \
		scripts/guest/realprogs.sh "$EPM_ROOT/epollmod.ko" \
		"$EPM_BUILD/lib/libepollmod-preload.so" 2>&1
	phase "realprogs run" $?
}
tap "vm: " < <(vm_realprogs)

# The debug kernel: fault injection runs there, the stress longer.
vm_debug() {
	EPM_STRESS_SECONDS=${EPM_STRESS_SECONDS:-60} \
		"$EPM_ROOT/scripts/debug-kernel-test.sh" "${EPM_TESTS:-*}" 2>&1
	phase "debug kernel run" $?
}
tap "debug: " < <(vm_debug)

# The appliance fails a run when the module WARNs, both ways, and the
# debug kernel's detectors work.
tap "selfcheck: " < <("$EPM_ROOT/scripts/selfcheck.sh" 2>&1)
tap "selfcheck: " < <("$EPM_ROOT/scripts/debug-kernel-selfcheck.sh" 2>&1)

elapsed=$((SECONDS - start))
echo "1..$n"
echo "# make test took ${elapsed}s"
summary="$passed passed, $failed failed"
[ $skipped = 0 ] || summary+=", $skipped skipped"
echo "$summary"
[ $failed = 0 ] && [ $n -gt 0 ]
