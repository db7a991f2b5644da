#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# selftests.sh MODULE.ko BINDIR [GLOB]
#
# Runs inside the test VM as root. Loads the module, runs every selftest
# binary in BINDIR (each test inside it gets its own kernel-log check from
# the harness), and prints one TAP stream on stdout:
#
#   ok - instance_test: instance.native.create1_cloexec
#   not ok - ctl_test: ctl.epollmod.add_twice
#   ok - ctl_test: ctl.epollmod.wakeup # SKIP reason
#
# plus a result per binary for its exit, its time limit and the kernel log
# around it, and one for unloading the module at the end. The raw output of
# every binary goes to stderr (the VM console). Exit status: 0 if nothing
# failed.
set -u
ko=$1
bindir=$2
glob=${3:-*}
patterns=$(cd "$(dirname "$0")/.." && pwd)/splat-patterns.txt
limit=${EPM_BINARY_TIMEOUT:-1200}
failed=0

export EPM_REQUIRE_MODULE=1 EPM_MODULE=$ko

ok() { echo "ok - $*"; }
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}

kernel_log_check() {
	local what=$1 splats
	splats=$(dmesg | grep -F -f "$patterns")
	if [ -n "$splats" ]; then
		not_ok "$what: kernel log clean"
		sed 's/^/# /' <<<"$splats"
	else
		ok "$what: kernel log clean"
	fi
	dmesg -C
}

dmesg -C
if insmod "$ko"; then
	ok "module: insmod $(basename "$ko")"
else
	not_ok "module: insmod $(basename "$ko")"
	exit 1
fi

for bin in "$bindir"/*_test; do
	suite=$(basename "$bin")
	out=$(mktemp)
	timeout -k 5 "$limit" "$bin" -t "$glob" >"$out" 2>&1
	rc=$?
	cat "$out" >&2

	planned=0 seen=0 bad=0 notes=()
	while IFS= read -r line; do
		case $line in
		1..*) planned=${line#1..} ;;
		"ok "*" # SKIP "*)
			seen=$((seen + 1))
			echo "ok - $suite: ${line#*# SKIP } # SKIP"
			notes=() ;;
		"ok "*)
			seen=$((seen + 1))
			ok "$suite: ${line#ok * }"
			notes=() ;;
		"not ok "*)
			seen=$((seen + 1)) bad=$((bad + 1))
			not_ok "$suite: ${line#not ok * }"
			printf '%s\n' "${notes[@]}" | grep -v '^# *\(RUN\|OK\) ' ;;
		"#"*) notes+=("$line") ;;
		esac
	done <"$out"
	rm -f "$out"

	if [ $rc = 124 ] || [ $rc = 137 ]; then
		not_ok "$suite: finished within ${limit}s"
	elif [ "$seen" -lt "$planned" ]; then
		not_ok "$suite: reported $seen of $planned tests (exit $rc)"
	elif [ $rc != 0 ] && [ $bad = 0 ]; then
		not_ok "$suite: exit status $rc with no failed test"
	fi
	kernel_log_check "$suite"
done

# Every instance is closed: the module must go, leaving nothing behind.
if rmmod epollmod; then
	ok "module: rmmod after the tests"
else
	not_ok "module: rmmod after the tests"
fi
kernel_log_check "module"
[ $failed = 0 ]
