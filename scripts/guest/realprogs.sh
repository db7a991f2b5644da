#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# realprogs.sh MODULE.ko SHIM.so [LIBEVENT]
#
# Runs inside the test VM as root. Programs nobody here wrote run unmodified
# under the LD_PRELOAD shim, and the module's counters
# (/sys/kernel/debug/epollmod/stats) prove that their events went through
# the module; the same runs without the shim must leave the counters alone.
#
#   Python's asyncio   an echo server and a client, two processes, exchange
#                      lines (Debian's python3; its default selector on
#                      Linux is epoll)
#   Redis              redis-server serves redis-cli and redis-benchmark,
#                      and forks for BGSAVE (Debian's redis-tools)
#
# and one written for <sys/event.h>, built unmodified against the drop-in
# (no shim: it calls kqueue() and kevent() in libepollmod-kqueue):
#
#   libevent           its own test suite (regress and the small test
#                      programs) on its kqueue backend, the others turned
#                      off; LIBEVENT is scripts/kqueue-realprog.sh's
#                      build directory (none: the section fails). A
#                      baseline run on native epoll first, without the
#                      module: what passes on this kernel at all. A
#                      failed test gets two more runs (its timing tests
#                      allow 50 ms, which TCG overruns now and then);
#                      tests left out would be in
#                      scripts/realprog/libevent-skip.txt, each with its
#                      reason.
#
# First without the module: the shim fails loudly (Redis cannot start, and
# says why), or with EPOLLMOD_PRELOAD_FALLBACK=1 runs both natively, saying
# so once per process. Then with the module, and at the end the module must
# unload: no instance left open. Prints TAP on stdout ("ok - realprogs:
# ...", details as "# " lines), the programs' output on stderr. Exit
# status: 0 if nothing failed.
set -u
ko=$1
shim=$2
libevent=${3:-}
skiplist=$(dirname "$0")/../realprog/libevent-skip.txt
tinytest_awk=$(dirname "$0")/../realprog/tinytest-results.awk
python=/usr/bin/python3
redis_server=/usr/bin/redis-check-rdb # redis-server when argv[0] says so
stats=/sys/kernel/debug/epollmod/stats
messages=200		# asyncio: lines echoed per run
requests=2000		# redis-benchmark: requests per command (SET, GET)
port=6390
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ok() { echo "ok - realprogs: $*"; }
not_ok() {
	echo "not ok - realprogs: $*"
	failed=$((failed + 1))
}
detail() { sed 's/^/# /'; }
# result PASSED NAME [DETAIL...]: one TAP line (PASSED is 1 or 0), the
# details under it.
result() {
	local passed=$1 name=$2
	shift 2
	if [ "$passed" = 1 ]; then
		ok "$name"
	else
		not_ok "$name"
	fi
	[ $# = 0 ] || printf '%s\n' "$@" | detail
}

# The module's counters as "waits events watches instances".
counters() {
	awk '{ v[$1] = $2 } END {
		print v["waits"] + 0, v["events"] + 0, v["watches"] + 0,
			v["instances"] + 0 }' 2>/dev/null <"$stats"
}

# Counters back to the instances and watches of @1 (closed instances go at
# once, but give a straggler a few seconds).
settled() {
	local want=$1 now
	for _ in $(seq 50); do
		now=$(counters)
		[ "${now#* * }" = "${want#* * }" ] && break
		sleep 0.1
	done
	echo "$now"
}

shim_lines() { grep -c '^epollmod-preload: ' "$1"; }
# 1 if text @1 contains @2, else 0.
has() { [[ $1 == *"$2"* ]] && echo 1 || echo 0; }

# The environment of a run under test: assignments, maybe none.
run_env=()

# Give process @1 ten seconds to exit, then kill it. 0 if it exited 0.
reap() {
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -KILL "$1" 2>/dev/null; then
		wait "$1"
		return 1
	fi
	wait "$1"
}

cat >"$work/echo.py" <<'PY'
# echo.py server PORTFILE | client PORT COUNT
# An asyncio echo server and its client. The client prints the selector
# asyncio picked and how many lines came back unchanged.
import asyncio, os, selectors, signal, sys

async def server(port_file):
    async def echo(reader, writer):
        while line := await reader.readline():
            writer.write(line)
            await writer.drain()
        writer.close()

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    srv = await asyncio.start_server(echo, "127.0.0.1", 0)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.sockets[0].getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    async with srv:
        await stop.wait()

async def client(port, count):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    echoed = 0
    for i in range(count):
        line = f"line {i} {'x' * (i * 37 % 1000)}\n".encode()
        writer.write(line)
        await writer.drain()
        if await reader.readline() == line:
            echoed += 1
    writer.close()
    await writer.wait_closed()
    print(f"selector {selectors.DefaultSelector.__name__}")
    print(f"echoed {echoed} of {count}")
    return echoed == count

if sys.argv[1] == "server":
    asyncio.run(server(sys.argv[2]))
else:
    sys.exit(0 if asyncio.run(client(int(sys.argv[2]), int(sys.argv[3])))
             else 1)
PY

# asyncio echo, server and client both under $run_env. Sets client_out,
# during (the counters while the server runs, after the exchange) and
# status; the programs' stderr is left in $work/server.err, client.err.
echo_run() {
	local pid
	rm -f "$work/port"
	env ${run_env[@]+"${run_env[@]}"} "$python" "$work/echo.py" server \
		"$work/port" 2>"$work/server.err" &
	pid=$!
	for _ in $(seq 600); do
		[ -s "$work/port" ] || ! kill -0 $pid 2>/dev/null && break
		sleep 0.1
	done
	status=1 client_out='' during=
	if [ -s "$work/port" ]; then
		client_out=$(env ${run_env[@]+"${run_env[@]}"} timeout 300 \
			"$python" "$work/echo.py" client "$(cat "$work/port")" \
			$messages 2>"$work/client.err")
		status=$?
		during=$(counters)
	fi
	kill -TERM $pid 2>/dev/null
	reap $pid || status=1
	cat "$work/server.err" "$work/client.err" >&2
}

# redis-server under $run_env, driven by native clients: SET/GET, a
# benchmark, a BGSAVE (a fork). Sets during and status as echo_run does.
redis_cli() { timeout 60 redis-cli -p $port "$@"; }
redis_run() {
	local pid value=realprogs-$RANDOM
	rm -f "$work/dump.rdb" "$work/benchmark.out"
	(
		[ ${#run_env[@]} = 0 ] || export "${run_env[@]}"
		exec -a redis-server "$redis_server" --port $port \
			--bind 127.0.0.1 --save '' --appendonly no \
			--dir "$work" --daemonize no
	) >"$work/redis.log" 2>"$work/redis.err" &
	pid=$!
	for _ in $(seq 600); do
		redis_cli ping 2>/dev/null | grep -q PONG && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	status=1 during=
	if redis_cli set realprogs "$value" | grep -q OK &&
		[ "$(redis_cli get realprogs)" = "$value" ] &&
		timeout 600 redis-benchmark -p $port -n $requests -c 4 \
			-t set,get -q >"$work/benchmark.out" &&
		redis_cli bgsave | grep -q 'Background saving started'; then
		for _ in $(seq 300); do
			redis_cli info persistence |
				grep -q '^rdb_bgsave_in_progress:0' && break
			sleep 0.1
		done
		redis_cli info persistence |
			grep -q '^rdb_last_bgsave_status:ok' &&
			[ -s "$work/dump.rdb" ] && status=0
	fi
	during=$(counters)
	redis_cli shutdown nosave >/dev/null 2>&1
	reap $pid || status=1
	tr '\r' '\n' <"$work/benchmark.out" | grep 'requests per second' >&2
	cat "$work/redis.log" "$work/redis.err" >&2
}

# Counters as "waits events watches instances" before a run, while it
# served and after it: what changed.
deltas() {
	local b d a
	read -ra b <<<"$1"
	read -ra d <<<"$2"
	read -ra a <<<"$3"
	echo "waits +$((a[0] - b[0])), events +$((a[1] - b[1])), watches" \
		"+$((d[2] - b[2])) and instances +$((d[3] - b[3])) while" \
		"serving, watches $((a[2] - b[2])) and instances" \
		"$((a[3] - b[3])) after"
}

# A run that went through the module: at least @4 waits and @5 events,
# watches and instances while it served, none left after.
through_module() {
	local b d a
	read -ra b <<<"$1"
	read -ra d <<<"$2"
	read -ra a <<<"$3"
	[ $((a[0] - b[0])) -ge "$4" ] && [ $((a[1] - b[1])) -ge "$5" ] &&
		[ $((d[2] - b[2])) -ge 1 ] && [ $((d[3] - b[3])) -ge 1 ] &&
		[ "${a[2]}" = "${b[2]}" ] && [ "${a[3]}" = "${b[3]}" ]
}

# ... and a run that left the module alone.
not_through_module() {
	[ "$1" = "$2" ] && [ "$2" = "$3" ]
}

# --- libevent, on the kqueue face --------------------------------------
# The module's counters, every one, as "name value" lines in file @1.
snapshot() { cat "$stats" >"$1" 2>/dev/null || : >"$1"; }
# "name +N" for each counter that moved from snapshot @1 to snapshot @2.
snapshot_deltas() {
	awk 'NR == FNR { b[$1] = $2; next }
		$2 != b[$1] { printf "%s %+d\n", $1, $2 - b[$1] }' "$1" "$2"
}
# How much counter @3 moved from snapshot @1 to @2.
snapshot_delta() {
	awk -v n="$3" 'NR == FNR { if ($1 == n) b = $2; next }
		$1 == n { print $2 - b; found = 1 } END { if (!found) print 0 }' \
		"$1" "$2"
}

# libevent's small test programs, each its own pass or fail;
# test-dumpevents's output is checked by its script.
levent_programs=(test-eof test-weof test-closed test-changelist test-time
	test-fdleak test-init test-dumpevents test-ratelim)

# levent_skips BACKEND: regress's arguments that leave out the tests the
# skip list names for BACKEND (kqueue or epoll) or for all.
levent_skips() {
	awk -v b="$1" '!/^[[:space:]]*(#|$)/ && ($1 == b || $1 == "all") {
		print ":" $2 }' "$skiplist"
}

# levent_suite BACKEND ENV...: libevent's tests with ENV set: regress, then
# the small programs. Leaves "ok|fail|skip|off TEST" lines in
# $work/BACKEND.res, regress's own counts ("summary OK FAILED SKIPPED", or
# "summary none") in $work/BACKEND.summary, and how many event bases used
# each method ("N METHOD") in $work/BACKEND.methods. The output goes to
# stderr too.
levent_suite() {
	local backend=$1 prog status test attempt
	shift
	mkdir -p "$work/$backend"
	# shellcheck disable=SC2046 # one argument per skipped test
	(cd "$work/$backend" && exec env "$@" EVENT_SHOW_METHOD=1 \
		timeout 1800 "$libevent/build/bin/regress" \
		$(levent_skips "$backend")) >"$work/$backend.log" 2>&1
	awk -f "$tinytest_awk" "$work/$backend.log" >"$work/$backend.out"
	grep -v '^summary ' "$work/$backend.out" >"$work/$backend.res"
	grep '^summary ' "$work/$backend.out" >"$work/$backend.summary"
	# A failed test gets two more runs of its own: the timing tests allow
	# 50 ms, which a loaded host under TCG overruns now and then (on
	# native epoll as on kqueue). One that passes then is counted passed
	# and named; one that fails three times has failed.
	: >"$work/$backend.retried"
	: >"$work/$backend.retries.log"
	awk '$1 == "fail" && $2 ~ /\// { print $2 }' "$work/$backend.res" |
	while read -r test; do
		for attempt in 2 3; do
			echo "$test: attempt $attempt"
			(cd "$work/$backend" && exec env "$@" EVENT_SHOW_METHOD=1 \
				timeout 300 "$libevent/build/bin/regress" \
				"$test" </dev/null)
			status=$?
			[ $status = 0 ] || continue
			echo "$test" >>"$work/$backend.retried"
			sed -i "s|^fail $test\$|ok $test|" "$work/$backend.res"
			break
		done
	done >>"$work/$backend.retries.log" 2>&1
	for prog in "${levent_programs[@]}"; do
		echo "$prog:"
		if [ "$prog" = test-dumpevents ]; then
			(cd "$work/$backend" && env "$@" EVENT_SHOW_METHOD=1 \
				timeout 300 "$libevent/build/bin/$prog" |
				timeout 300 "$python" \
					"$libevent/src/test/check-dumpevents.py")
		else
			(cd "$work/$backend" && env "$@" EVENT_SHOW_METHOD=1 \
				timeout 300 "$libevent/build/bin/$prog")
		fi
		status=$?
		echo "$prog: exit status $status"
		[ $status = 0 ] && echo "ok $prog" >>"$work/$backend.res" ||
			echo "fail $prog" >>"$work/$backend.res"
	done >>"$work/$backend.log" 2>&1
	grep -o 'libevent using: [a-z_]*' "$work/$backend.log" |
		awk '{ print $3 }' | sort | uniq -c |
		awk '{ print $1, $2 }' >"$work/$backend.methods"
	# The tests that made a base on another method.
	awk -v b="$backend" '/^[A-Za-z0-9_]+\/[^ :]+: / || /^test-[a-z]+:$/ {
			cur = substr($1, 1, length($1) - 1) }
		match($0, /libevent using: [a-z_]+/) {
			m = substr($0, RSTART + 16, RLENGTH - 16)
			if (m != b && !seen[cur]++) print cur }' \
		"$work/$backend.log" >"$work/$backend.others"
	sed "s/^/libevent ($backend): /" "$work/$backend.log" \
		"$work/$backend.retries.log" >&2
}

# levent_count BACKEND OUTCOME: how many tests had OUTCOME.
levent_count() { grep -c "^$2 " "$work/$1.res"; }
# levent_list BACKEND OUTCOME: their names, on one line.
levent_list() {
	awk -v o="$2" '$1 == o { printf "%s%s", sep, $2; sep = " " }
		END { print sep ? "" : "none" }' "$work/$1.res"
}
# levent_counts BACKEND: "N passed, N failed, N skipped, N off by default"
# and regress's own counts.
levent_counts() {
	local s
	read -ra s <"$work/$1.summary"
	echo "$(levent_count "$1" ok) passed, $(levent_count "$1" fail)" \
		"failed, $(levent_count "$1" skip) skipped, $(levent_count "$1" \
		off) off by default (regress itself: ${s[*]:1})"
}
# levent_complete BACKEND: regress ran to its end, and its own counts of
# passes and failures are those read test by test (the regress lines among
# the .res lines: the programs' are named test-*), the retries aside.
levent_complete() {
	local s ok fail retried
	read -ra s <"$work/$1.summary"
	[ "${s[1]:-none}" != none ] || return 1
	ok=$(grep -c '^ok [^ ]*/' "$work/$1.res")
	fail=$(grep -c '^fail [^ ]*/' "$work/$1.res")
	retried=$(wc -l <"$work/$1.retried")
	[ $((ok - retried)) = "${s[1]}" ] && [ $((fail + retried)) = "${s[2]}" ]
}
# levent_retried BACKEND: the tests that passed on a retry, on one line.
levent_retried() {
	if [ -s "$work/$1.retried" ]; then
		paste -sd' ' "$work/$1.retried"
	else
		echo none
	fi
}
# levent_methods BACKEND: the methods line, "N kqueue, M epoll".
levent_methods() {
	awk '{ printf "%s%s bases on %s", sep, $1, $2; sep = ", " }
		END { print "" }' "$work/$1.methods"
}
# levent_method_count BACKEND METHOD: bases that used METHOD.
levent_method_count() {
	awk -v m="$2" '$2 == m { n = $1 } END { print n + 0 }' "$work/$1.methods"
}

# --- Without the module ------------------------------------------------
if [ -e /dev/epollmod ]; then
	not_ok "the module is not loaded at the start"
	exit 1
fi

run_env=(LD_PRELOAD="$shim")
redis_run
result $((status != 0 && $(shim_lines "$work/redis.err") == 1 &&
	$(has "$(cat "$work/redis.log")" "Error message: 'No such device'"))) \
	"no module: redis-server under the shim cannot start, and the shim says why once" \
	"$(cat "$work/redis.err")" \
	"$(grep -m1 'event loop' "$work/redis.log")"

env "${run_env[@]}" "$python" -c 'import select; select.epoll()' \
	2>"$work/epoll.err"
status=$?
cat "$work/epoll.err" >&2
result $((status == 1 && $(shim_lines "$work/epoll.err") == 1)) \
	"no module: Python's select.epoll() under the shim fails with ENODEV, said once" \
	"$(grep -E '^(epollmod-preload|OSError)' "$work/epoll.err")"

# Python's selectors module checks that epoll works, and else takes poll.
echo_run
result $((status == 0 && $(shim_lines "$work/server.err") == 1 &&
	$(shim_lines "$work/client.err") == 1 &&
	$(has "$client_out" "selector PollSelector"))) \
	"no module: asyncio echo under the shim runs, on poll(), the shim's line in each process" \
	"$client_out"

run_env=(LD_PRELOAD="$shim" EPOLLMOD_PRELOAD_FALLBACK=1)
echo_run
result $((status == 0 && $(shim_lines "$work/server.err") == 1 &&
	$(shim_lines "$work/client.err") == 1 &&
	$(has "$client_out" "selector EpollSelector"))) \
	"no module, EPOLLMOD_PRELOAD_FALLBACK=1: asyncio echo on native epoll, one notice per process" \
	"$client_out" "$(head -n1 "$work/server.err")"

redis_run
result $((status == 0 && $(shim_lines "$work/redis.err") == 1)) \
	"no module, EPOLLMOD_PRELOAD_FALLBACK=1: redis-server serves on native epoll, one notice" \
	"$(cat "$work/redis.err")"

# libevent without the module: its kqueue backend cannot start (kqueue()
# gives ENODEV, libevent says so), and the baseline on native epoll.
levent=0
if [ -z "$libevent" ] || [ ! -x "$libevent/build/bin/regress" ]; then
	not_ok "libevent: built for the kqueue face (scripts/kqueue-realprog.sh)"
else
	levent=1
	env EVENT_NOEPOLL=1 EVENT_NOPOLL=1 EVENT_NOSELECT=1 \
		EVENT_SHOW_METHOD=1 "$libevent/build/bin/test-eof" \
		>"$work/levent.out" 2>&1
	status=$?
	cat "$work/levent.out" >&2
	result $((status != 0 && $(has "$(cat "$work/levent.out")" \
		"kqueue: No such device"))) \
		"no module: libevent with only its kqueue backend cannot start, and says kqueue() gave ENODEV" \
		"$(cat "$work/levent.out")"

	levent_suite epoll EVENT_NOKQUEUE=1
	levent_complete epoll
	complete=$?
	result $((complete == 0 && $(levent_count epoll fail) == 0 &&
		$(levent_method_count epoll epoll) > 0)) \
		"no module: libevent's tests on native epoll (the baseline): $(levent_counts epoll)" \
		"failed: $(levent_list epoll fail)" \
		"passed on a retry: $(levent_retried epoll)" \
		"skipped: $(levent_list epoll skip)" \
		"$(levent_methods epoll)"
fi

# --- With the module ---------------------------------------------------
if insmod "$ko"; then
	ok "insmod $(basename "$ko")"
else
	not_ok "insmod $(basename "$ko")"
	exit 1
fi

run_env=(LD_PRELOAD="$shim")
before=$(counters)
echo_run
after=$(settled "$before")
# Both processes wait for and get an event per line.
through_module "$before" "$during" "$after" $((2 * messages)) \
	$((2 * messages))
routed=$?
result $((routed == 0 && status == 0 &&
	$(has "$client_out" "selector EpollSelector") &&
	$(cat "$work/server.err" "$work/client.err" | wc -l) == 0)) \
	"asyncio echo under the shim: $messages lines round-trip through the module" \
	"$client_out" "$(deltas "$before" "$during" "$after")"

run_env=()
before=$(counters)
echo_run
after=$(settled "$before")
not_through_module "$before" "$during" "$after"
routed=$?
result $((routed == 0 && status == 0)) \
	"asyncio echo without the shim: the module's counters do not move" \
	"$client_out" "$(deltas "$before" "$during" "$after")"

run_env=(LD_PRELOAD="$shim")
before=$(counters)
redis_run
after=$(settled "$before")
# An event per request; 4 clients, so a wait harvests up to 4 of them.
through_module "$before" "$during" "$after" $((2 * requests / 4)) \
	$((2 * requests))
routed=$?
result $((routed == 0 && status == 0 && $(shim_lines "$work/redis.err") == 0)) \
	"redis-server under the shim: SET/GET, $((2 * requests)) benchmark requests and a BGSAVE fork through the module" \
	"$(deltas "$before" "$during" "$after")"

run_env=()
before=$(counters)
redis_run
after=$(settled "$before")
not_through_module "$before" "$during" "$after"
routed=$?
result $((routed == 0 && status == 0)) \
	"redis-server without the shim: the module's counters do not move" \
	"$(deltas "$before" "$during" "$after")"

# libevent on the module's kqueue: its own kqueue check, then its tests
# with every other backend turned off. The counters move by what it did,
# and every instance is closed at the end. A test that passed on native
# epoll and fails here is named as such.
if [ $levent = 1 ]; then
	"$libevent/build/bin/kqueue-probe"
	status=$?
	result $((status == 0)) \
		"libevent's own check that kqueue works with pipes (CMake's CheckWorkingKqueue) passes on the module" \
		"exit status $status"

	before=$(counters)
	snapshot "$work/stats.before"
	levent_suite kqueue EVENT_NOEPOLL=1 EVENT_NOPOLL=1 EVENT_NOSELECT=1
	settled "$before" >/dev/null
	snapshot "$work/stats.after"
	levent_complete kqueue
	complete=$?
	regressed=$(awk 'NR == FNR { if ($1 == "ok") ok[$2] = 1; next }
		$1 == "fail" && ok[$2] { printf "%s%s", sep, $2; sep = " " }
		END { print "" }' "$work/epoll.res" "$work/kqueue.res")
	kevents=$(snapshot_delta "$work/stats.before" "$work/stats.after" \
		kevents)
	changes=$(snapshot_delta "$work/stats.before" "$work/stats.after" \
		kevent_changes)
	events=$(snapshot_delta "$work/stats.before" "$work/stats.after" events)
	left=$(( $(snapshot_delta "$work/stats.before" "$work/stats.after" \
		instances) != 0 || $(snapshot_delta "$work/stats.before" \
		"$work/stats.after" watches) != 0 ))
	kq_bases=$(levent_method_count kqueue kqueue)
	# Only the tests that ask for other methods by name use them:
	# main/methods avoids the first one, main/base_environ ignores the
	# environment.
	others=$(grep -cvxE 'main/(methods|base_environ)' "$work/kqueue.others")
	# Each kqueue base starts with a kevent() call with a change
	# (libevent's check that a failed change comes back as an event), and
	# the tests wait for many more events than they make bases.
	result $((complete == 0 && $(levent_count kqueue fail) == 0 &&
		kq_bases > 0 && others == 0 && kevents >= kq_bases &&
		changes >= kq_bases && events >= kq_bases && left == 0)) \
		"libevent's tests on its kqueue backend, through the module: $(levent_counts kqueue)" \
		"failed: $(levent_list kqueue fail)" \
		"failed here but passed on native epoll: ${regressed:-none}" \
		"passed on a retry: $(levent_retried kqueue)" \
		"skipped: $(levent_list kqueue skip)" \
		"$(levent_methods kqueue); other methods in: $(paste -sd' ' \
			"$work/kqueue.others")" \
		"counters: $(snapshot_deltas "$work/stats.before" \
			"$work/stats.after" | paste -sd' ')"
fi

# Every instance is closed: the module must go.
if rmmod epollmod; then
	ok "rmmod after the real programs"
else
	not_ok "rmmod after the real programs"
fi
[ $failed = 0 ]
