#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make run, in the VM: load the module, then race a TCP echo server on
# epollmod against the same server on native epoll, and take the kqueue
# tour (examples/kqueue/kq_tour.c).
#
# The server (examples/echo/echo_server.cc) is written once over the C++
# wrapper's interface and runs on either backend; the load generator
# (echo_load) holds CONNECTIONS connections with a request in flight each,
# plus IDLE silent ones that the server's idle timeout must close. The
# backends take turns, native first then epollmod first, so that drift in
# the emulator's speed does not favour either. The module's counters are
# read around every run: the epollmod runs must account for every wait and
# event the server made, the native runs for none.
#
# Nothing here depends on how busy the host is: a run fails on a wrong
# echo, a lost connection or a miscount, never on time. The idle
# connections get up to IDLE_WAIT_MS after the measured time to be reaped,
# and one still open then is reported in the table, not failed. The
# numbers are compared only as far as they are reproducible: the spread
# between runs of the same backend says how far apart they may land by
# chance, and a ratio inside it is called noise.
set -euo pipefail
exec 2>&1 # only stdout comes back to make run

CONNECTIONS=${CONNECTIONS:-500}
IDLE=${IDLE:-20}
WARMUP_MS=${WARMUP_MS:-500}
DURATION_MS=${DURATION_MS:-2500}
IDLE_WAIT_MS=${IDLE_WAIT_MS:-30000}
ORDER=(native epollmod epollmod native native epollmod)

bin=build/lib/examples
stats=/sys/kernel/debug/epollmod/stats
for program in echo_server echo_load kq_tour; do
	[ -x $bin/$program ] || { echo "demo: no $bin/$program: run make"; exit 1; }
done

# field NAME LINE: the value of NAME=value in LINE.
field() {
	sed -n "s/.*[ :]$1=\([^ ]*\).*/\1/p" <<<"$2"
}
counter() {
	awk -v name="$1" '$1 == name { print $2 }' $stats
}
ms() {
	awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'
}

insmod "${EPM_MODULE:-epollmod.ko}"
echo "module: epollmod $(cat /sys/module/epollmod/version) loaded;" \
	"$(stat -c '%A' /dev/epollmod) /dev/epollmod"
[ -r $stats ] || { echo "demo: $stats missing (no debugfs?)"; exit 1; }
echo "module counters before: $(tr '\n' ' ' <$stats)"

if grep -qw hypervisor /proc/cpuinfo && ! dmesg | grep -q 'Hypervisor detected: KVM'; then
	echo "Running under QEMU's emulator (TCG, no KVM): absolute numbers are"
	echo "meaningless here, only the epollmod/native ratios mean something."
fi
echo
echo "TCP echo over loopback: $CONNECTIONS connections with a 64-byte request in"
echo "flight each, $IDLE idle ones; ${WARMUP_MS} ms warm-up, then ${DURATION_MS} ms measured."
echo "The server: one thread, edge-triggered connections, a level-triggered"
echo "listener, 100 ms ticks closing connections idle for 2 s."
echo
fmt='%-3s %-8s %8s %8s %8s %21s %21s %7s\n'
printf "$fmt" run backend "req/s" "p50 ms" "p99 ms" "waits server/module" \
	"events server/module" reaped

results=
late=
failed=0
run=0
for backend in "${ORDER[@]}"; do
	run=$((run + 1))
	waits0=$(counter waits) events0=$(counter events)
	if ! out=$(examples/echo/run-pair.sh $bin "$backend" \
		--idle-timeout-ms=2000 --tick-ms=100 -- \
		--connections="$CONNECTIONS" --idle="$IDLE" \
		--warmup-ms="$WARMUP_MS" --duration-ms="$DURATION_MS" \
		--idle-wait-ms="$IDLE_WAIT_MS" --idle-report); then
		echo "$out"
		echo "demo: run $run ($backend) failed"
		failed=1
		continue
	fi
	module_waits=$(($(counter waits) - waits0))
	module_events=$(($(counter events) - events0))
	load=$(grep '^echo_load:' <<<"$out")
	server=$(grep '^echo_server:' <<<"$out")
	server_waits=$(field waits "$server")
	server_events=$(field events "$server")
	rps=$(field rps "$load") p50=$(field p50_us "$load")
	p99=$(field p99_us "$load")
	reaped=$(field idle_closed "$load")
	printf "$fmt" "$run" "$backend" "$rps" "$(ms "$p50")" "$(ms "$p99")" \
		"$server_waits/$module_waits" "$server_events/$module_events" \
		"$reaped"
	if [ "${reaped%/*}" != "${reaped#*/}" ]; then
		late+="run $run ($backend): $reaped idle connections reaped"
		late+=" $(field idle_wait_ms "$load") ms after the run"$'\n'
	fi
	results+="$backend $rps $p50 $p99"$'\n'

	# The module saw exactly the epollmod server's calls, and nothing
	# of the native one's.
	if [ "$backend" = epollmod ]; then
		expect_waits=$server_waits expect_events=$server_events
	else
		expect_waits=0 expect_events=0
	fi
	if [ "$module_waits" != "$expect_waits" ] ||
		[ "$module_events" != "$expect_events" ]; then
		echo "demo: run $run ($backend): the module counted $module_waits" \
			"waits and $module_events events, expected" \
			"$expect_waits and $expect_events"
		failed=1
	fi
done

echo "waits, events: the server's own count / the module's (debugfs) in that run;"
echo "reaped: idle connections closed by the server's timeout (within"
echo "${IDLE_WAIT_MS} ms of the run's end; fewer is reported, not failed)."
if [ -n "$late" ]; then
	echo "Not every idle connection was reaped in time: the host was too busy"
	echo "to run the server for its 2 s idle timeout. Reported, not failed:"
	printf '%s' "$late"
fi

# Medians per backend, and their ratio, with the spread of each backend's
# own runs: a ratio closer to 1 than that spread is noise.
[ $failed = 1 ] || awk '
function sort(list, a,    n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n
}
function median(list,    a, n) {
	n = sort(list, a)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# How far apart two runs of one backend landed: max/min - 1.
function spread(list,    a, n) {
	n = sort(list, a)
	return a[1] > 0 ? a[n] / a[1] - 1 : 0
}
{ for (i = 2; i <= 4; i++) v[$1, i] = v[$1, i] " " $i; runs[$1]++ }
END {
	printf "\n%-24s %10s %10s %16s %16s\n", "median of " runs["native"] " runs each",
		"native", "epollmod", "epollmod/native", "run-to-run"
	split("requests/s,p50 latency (ms),p99 latency (ms)", label, ",")
	for (i = 2; i <= 4; i++) {
		n = median(v["native", i]); e = median(v["epollmod", i])
		s = spread(v["native", i]); t = spread(v["epollmod", i])
		if (t > s)
			s = t
		r = n > 0 ? e / n : 0
		verdict = (r - 1 < s && 1 - r < s) ? "noise" : "beyond noise"
		if (i == 2)
			printf "%-24s %10d %10d %16.2f %9s%3d%% %s\n", label[i - 1],
				n, e, r, "±", s * 100, verdict
		else
			printf "%-24s %10.2f %10.2f %16.2f %9s%3d%% %s\n", label[i - 1],
				n / 1000, e / 1000, r, "±", s * 100, verdict
	}
	print "run-to-run: the widest spread (max/min - 1) between runs of one"
	print "backend. A ratio within it is noise: the host moved the numbers more"
	print "than the backends did. Only a quiet host gives a ratio that means"
	print "something; make bench measures with more runs and a control."
}' <<<"$results"

echo
echo "kqueue: examples/kqueue/kq_tour.c, a <sys/event.h> program built on the drop-in"
if ! $bin/kq_tour; then
	echo "kq_tour: FAILED"
	failed=1
fi

echo
echo "module counters after:  $(tr '\n' ' ' <$stats)"
rmmod epollmod
echo "module unloaded; the demo took ${SECONDS}s in the VM"
exit $failed
