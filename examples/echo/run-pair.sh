#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# run-pair.sh BINDIR BACKEND [SERVER_OPTION...] [-- LOAD_OPTION...]
#
# One measurement: echo_server on BACKEND (epollmod or native) on a free
# port, echo_load against it, then SIGTERM to the server. Prints the load
# generator's line, then the server's counters; fails if either program
# does. SERVER_NOFILE, if set, is the server's limit on open files;
# SERVER_STALL=AFTER:FOR (seconds) stops the server with SIGSTOP for FOR
# seconds, AFTER seconds into the load.
set -uo pipefail

bindir=$1 backend=$2
shift 2
server_args=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	server_args+=("$1")
	shift
done
[ $# -gt 0 ] && shift

out=$(mktemp)
server=
cleanup() {
	[ -z "$server" ] || kill "$server" 2>/dev/null
	rm -f "$out"
}
trap cleanup EXIT

(
	[ -z "${SERVER_NOFILE:-}" ] || ulimit -n "$SERVER_NOFILE" || exit 1
	exec "$bindir/echo_server" --backend="$backend" "${server_args[@]}"
) >"$out" 2>&1 &
server=$!

# Under emulation, on a busy host, the first start of a program can take
# seconds: up to two minutes.
port=
for _ in $(seq 1200); do
	port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$out")
	[ -n "$port" ] && break
	kill -0 "$server" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$port" ]; then
	cat "$out" >&2
	echo "run-pair.sh: echo_server ($backend) did not start listening" >&2
	exit 1
fi

"$bindir/echo_load" --port="$port" "$@" &
load=$!
if [ -n "${SERVER_STALL:-}" ]; then
	sleep "${SERVER_STALL%:*}"
	kill -STOP "$server"
	sleep "${SERVER_STALL#*:}"
	kill -CONT "$server"
fi
wait "$load"
load_status=$?
kill -TERM "$server"
wait "$server"
server_status=$?
server=
grep -v 'listening on' "$out"
[ $load_status = 0 ] && [ $server_status = 0 ]
