#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# realprogs.sh MODULE.ko SHIM.so
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
# First without the module: the shim fails loudly (Redis cannot start, and
# says why), or with EPOLLMOD_PRELOAD_FALLBACK=1 runs both natively, saying
# so once per process. Then with the module, and at the end the module must
# unload: no instance left open. Prints TAP on stdout ("ok - realprogs:
# ...", details as "# " lines), the programs' output on stderr. Exit
# status: 0 if nothing failed.
set -u
ko=$1
shim=$2
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

# Every instance is closed: the module must go.
if rmmod epollmod; then
	ok "rmmod after the real programs"
else
	not_ok "rmmod after the real programs"
fi
[ $failed = 0 ]
