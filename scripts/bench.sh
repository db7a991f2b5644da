#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: epollmod against native epoll, every case of bench/ in one
# VM boot, interleaved and repeated (bench/main.c says how).
#
# Writes into build/bench: results.json (every sample, the medians,
# spreads, ratios and target verdicts), table.txt, scaling.png and
# ratios.png; prints the table last. Benchmarks are not tests: a missed
# target is printed as MISSED and the exit status stays 0. Only a run that
# produced no results (a build failure, a crash) fails.
#
# Under QEMU/TCG (no KVM) every instruction is emulated: absolute numbers
# mean nothing, ratios taken in one boot do.
#
#   EPM_BENCH_ARGS         extra epbench options, e.g. "--reps 3 --only idle"
#   EPM_BENCH_ECHO_SERVER  case 7's server command (see bench/echo.c); by
#                          default the echo demo (examples/echo) if it is
#                          built, else bench/echo_server.c
set -euo pipefail
. "$(dirname "$0")/lib.sh"

start=$SECONDS
out=$EPM_BUILD/bench
need gnuplot gnuplot-nox
need python3 python3
make --no-print-directory -C "$EPM_ROOT/bench" BUILD="$EPM_BUILD" >/dev/null
ko=${EPM_MODULE:-$EPM_ROOT/epollmod.ko}
[ -r "$ko" ] || die "no $ko: run make first"

demo=$EPM_BUILD/lib/examples/echo_server
if [ -n "${EPM_BENCH_ECHO_SERVER:-}" ]; then
	echo_server=$EPM_BENCH_ECHO_SERVER
elif [ -x "$demo" ]; then
	# The demo's idle timeout must not reap the benchmark's connections.
	echo_server="$demo --backend={backend} --port={port} --idle-timeout-ms=600000"
else
	echo_server="{bindir}/echo-server --backend {backend} --port {port}"
fi

# The guest's stdout: progress, then the JSON between markers. Show the
# progress as it comes, keep everything.
log=$out/guest.log
rm -f "$out/results.json" "$out/table.txt" "$out"/*.png "$out"/*.dat
status=0
# shellcheck disable=SC2086 # EPM_BENCH_ARGS is a list of options
"$EPM_ROOT/scripts/vm.sh" --name bench --mem 4G --append slab_nomerge \
	--timeout 3000 -- "$EPM_ROOT/scripts/guest/bench.sh" \
	"$ko" "$out" --echo-server "$echo_server" \
	${EPM_BENCH_ARGS:-} |
	tee "$log" | sed -u '/^EPBENCH-JSON-BEGIN$/,/^EPBENCH-JSON-END$/d' ||
	status=$?
sed -n '/^EPBENCH-JSON-BEGIN$/,/^EPBENCH-JSON-END$/p' "$log" |
	sed '1d;$d' >"$out/results.json"
if [ $status != 0 ] || [ ! -s "$out/results.json" ]; then
	die "the benchmark VM produced no results (exit status $status): see $log and $EPM_BUILD/vm/bench/console.log"
fi

echo
python3 "$EPM_ROOT/bench/report.py" "$out/results.json" "$out"
echo
if [ -s "$out/idle.dat" ] && [ -s "$out/harvest.dat" ] && [ -s "$out/ratios.dat" ]; then
	gnuplot -e "dir='$out'" "$EPM_ROOT/bench/plot.gp"
	echo "Results: $out/results.json, $out/table.txt, $out/scaling.png, $out/ratios.png"
else
	echo "Results: $out/results.json, $out/table.txt (no plots: they need the idle, harvest and ratio cases)"
fi
echo "make bench took $((SECONDS - start)) s."
