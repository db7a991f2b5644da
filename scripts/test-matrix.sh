#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make test-matrix: every VM selftest on each kernel of the matrix, one
# TAP listing, one table, one closing line.
#
# The kernels are Debian 12's 6.1, bookworm-backports' 6.12 and the newest
# mainline (sid's linux-source-N.M, built here), or those EPM_MATRIX names
# (scripts/kernel.sh's names: "6.1 6.12 mainline", release strings...).
# Each is installed or built if it is not there yet, the module is built
# for it under build/kernels/RELEASE/module, and the selftests run in one
# VM boot of it (scripts/guest/selftests.sh). Then, per kernel: whether
# the module built (without a warning) and loaded, its tests passed,
# failed and skipped, and the splats on its console.
#
# Prints "N passed, N failed, N skipped" last; exits non-zero on any
# failure: a kernel that cannot be had, a module that does not build or
# load, a failed test, a splat, a hang or a crash. EPM_TESTS=GLOB narrows
# the selftests.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

read -ra kernels <<<"${EPM_MATRIX:-6.1 6.12 mainline}"
patterns=$EPM_ROOT/scripts/splat-patterns.txt
start=$SECONDS
n=0 passed=0 failed=0 skipped=0
rows=()
bad=0

echo "TAP version 13"

# selftests KO LOG: one VM boot of the kernel selected running every
# selftest, its output also kept in LOG.
selftests() {
	"$EPM_ROOT/scripts/vm.sh" --name "matrix-$kernel_kver" \
		--kernel "$kernel_image" --kver "$kernel_kver" \
		--modules "$kernel_modules" -- \
		scripts/guest/selftests.sh "$1" "$EPM_BUILD/selftests" \
		"${EPM_TESTS:-*}" 2>&1 | tee "$2"
	phase "selftests run" "${PIPESTATUS[0]}"
}

for kernel in "${kernels[@]}"; do
	kstart=$SECONDS
	p0=$passed f0=$failed s0=$skipped
	# What installing or building it says goes to stderr as it comes.
	if ! kernel_select "$kernel"; then
		tap "$kernel: " < <(echo "not ok - kernel $kernel: installed or built")
		rows+=("$kernel|no kernel|-|0|1|0|-|$((SECONDS - kstart))")
		bad=1
		continue
	fi
	echo "# $kernel: $kernel_kver ($kernel_image)"
	label="$kernel $kernel_kver"
	[ "$kernel" != "$kernel_kver" ] || label=$kernel
	dir=$EPM_BUILD/kernels/$kernel_kver/module
	builds=yes
	if module_build "$kernel_kdir" "$dir"; then
		tap "$kernel: " < <(echo "ok - build epollmod.ko for $kernel_kver"
			if grep -qi 'warning' "$dir/build.log"; then
				echo "not ok - no warning building for $kernel_kver"
				grep -i 'warning' "$dir/build.log" | sed 's/^/# /'
			else
				echo "ok - no warning building for $kernel_kver"
			fi)
		grep -qi 'warning' "$dir/build.log" && builds=warnings
	else
		tap "$kernel: " < <(echo "not ok - build epollmod.ko for $kernel_kver"
			sed 's/^/# /' "$dir/build.log")
		rows+=("$label|no|-|$((passed - p0))|$((failed - f0))|$((skipped - s0))|-|$((SECONDS - kstart))")
		bad=1
		continue
	fi

	out=$EPM_BUILD/kernels/$kernel_kver/selftests.out
	tap "$kernel: " < <(selftests "$dir/epollmod.ko" "$out")
	loads=no
	grep -q '^ok - module: insmod' "$out" && loads=yes
	console=$EPM_BUILD/vm/matrix-$kernel_kver/console.log
	splats=$(grep -a -c -F -f "$patterns" "$console" 2>/dev/null)
	[ "$loads" = yes ] && [ "${splats:-0}" = 0 ] || bad=1
	rows+=("$label|$builds|$loads|$((passed - p0))|$((failed - f0))|$((skipped - s0))|${splats:-?}|$((SECONDS - kstart))")
done

echo "1..$n"
echo "#"
{
	echo "kernel|builds|loads|passed|failed|skipped|splats|time (s)"
	printf '%s\n' "${rows[@]}"
} | awk -F'|' '
	{ for (i = 1; i <= NF; i++) {
		cell[NR, i] = $i
		if (length($i) > width[i]) width[i] = length($i)
	} rows = NR; cols = NF }
	END { for (r = 1; r <= rows; r++) {
		line = "#"
		for (i = 1; i <= cols; i++)
			line = line sprintf(i == 1 ? " %-*s" : "  %*s", width[i], cell[r, i])
		print line
	} }'
echo "# make test-matrix took $((SECONDS - start))s"
summary="$passed passed, $failed failed"
[ $skipped = 0 ] || summary+=", $skipped skipped"
echo "$summary"
[ $failed = 0 ] && [ $bad = 0 ] && [ $n -gt 0 ]
