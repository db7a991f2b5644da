#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# selfcheck.sh WARN_MODULE.ko BINDIR: the guest half of scripts/selfcheck.sh.
set -u
ko=$1
bindir=$2
test=abi.info_reports_version_and_features

insmod "$ko" || { echo "SELFCHECK insmod failed"; exit 1; }

sysctl -qw kernel.panic_on_warn=0
if EPM_REQUIRE_MODULE=1 "$bindir/abi_test" -t "$test" >/tmp/out 2>&1; then
	echo "SELFCHECK harness: passed the test"
else
	grep -q 'kernel splat' /tmp/out &&
		echo "SELFCHECK harness: failed the test"
fi
cat /tmp/out

sysctl -qw kernel.panic_on_warn=1
EPM_REQUIRE_MODULE=1 "$bindir/abi_test" -t "$test" >/dev/null 2>&1
echo "SELFCHECK panic: survived"
