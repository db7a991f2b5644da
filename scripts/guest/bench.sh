#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench.sh MODULE.ko BINDIR [EPBENCH-OPTION...]
#
# Runs inside the bench VM as root (scripts/bench.sh boots it). Makes room
# for 100k descriptors, loads the module with its default parameters, runs
# BINDIR/epbench and prints its JSON results on stdout between
# EPBENCH-JSON-BEGIN and EPBENCH-JSON-END lines: the host root is read-only
# here, so stdout (the results serial port) is the way back.
set -eu
ko=$1
bindir=$2
shift 2

# epbench raises its own RLIMIT_NOFILE, within these.
sysctl -qw fs.nr_open=1048576 fs.file-max=1048576
insmod "$ko"

json=$(mktemp)
# The close case unloads the module and loads it again.
EPM_MODULE=$ko "$bindir/epbench" --json "$json" "$@"
echo EPBENCH-JSON-BEGIN
cat "$json"
echo EPBENCH-JSON-END
rmmod epollmod
