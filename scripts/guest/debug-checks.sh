#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# debug-checks.sh clear|check
#
# Runs inside the test VM on the debug kernel (scripts/debug-kernel.sh).
#
#   clear  before the tests: scans once and forgets what that scan found,
#          so objects leaked (or only seemingly leaked) during boot are
#          never reported. Prints nothing, or a "not ok" line if kmemleak
#          cannot run, and then fails.
#   check  after the tests: scans twice, a few seconds apart (an object
#          must be older than 5 s and still unreferenced to be reported,
#          and the second pass drops objects freed late, as by RCU),
#          then prints one TAP line:
#            ok - kmemleak: no leaks
#            not ok - kmemleak: N leaks
#          with kmemleak's report as "# " lines after a failure.
#          Exits non-zero on leaks or if kmemleak cannot run.
#
# A scan that finds leaks also logs "N new suspected memory leaks" to the
# console, which vm.sh counts as a splat.
set -u
kmemleak=/sys/kernel/debug/kmemleak
settle=${EPM_KMEMLEAK_SETTLE:-5}

usable() {
	if [ ! -e "$kmemleak" ]; then
		echo "# $kmemleak is missing: not the debug kernel?"
		return 1
	fi
}

# kmemleak switches itself off for good when it runs out of memory for its
# metadata; then its file refuses every command but "clear".
scan() {
	echo scan 2>/dev/null >"$kmemleak" && return
	echo "# kmemleak refuses to scan; what the kernel said of it:"
	dmesg | grep -i kmemleak | sed 's/^/# /'
	return 1
}

case ${1:-} in
clear)
	if ! usable || ! scan || ! echo clear >"$kmemleak"; then
		echo "not ok - kmemleak: cannot clear before the tests"
		exit 1
	fi
	;;
check)
	if ! usable || ! scan || ! sleep "$settle" || ! scan; then
		echo "not ok - kmemleak: cannot scan"
		exit 1
	fi
	report=$(cat "$kmemleak")
	leaks=$(grep -c '^unreferenced object' <<<"$report")
	if [ "$leaks" = 0 ]; then
		echo "ok - kmemleak: no leaks"
		exit 0
	fi
	echo "not ok - kmemleak: $leaks leaks"
	sed 's/^/# /' <<<"$report"
	exit 1
	;;
*)
	echo "usage: $0 clear|check" >&2
	exit 2
	;;
esac
