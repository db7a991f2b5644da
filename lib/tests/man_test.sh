#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# man_test.sh PAGE...
#
# The manual pages, linted: mandoc -T lint at warning level and man-db's own
# rendering with --warnings, each where it is installed (scripts/deps.sh
# installs mandoc). Any message fails the test.
set -uo pipefail

if ! command -v mandoc >/dev/null && ! command -v man >/dev/null; then
	echo "man_test: neither mandoc nor man is installed" >&2
	exit 1
fi
failed=0
for page in "$@"; do
	if command -v mandoc >/dev/null; then
		out=$(mandoc -T lint -W warning "$page" 2>&1)
		if [ -n "$out" ]; then
			echo "$out"
			failed=1
		fi
	fi
	command -v man >/dev/null || continue
	out=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$page" 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		echo "$page: $out"
		failed=1
	fi
done
[ $failed = 0 ] && echo "man_test: $# pages clean"
exit $failed
