#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# symbols_test.sh LIBRARY ALLOWED_ERE REQUIRED...
#
# Every global symbol LIBRARY defines (its dynamic symbols for a .so, its
# members' global ones for a .a: code, data, bss, weak, hidden included)
# matches ALLOWED_ERE, and each REQUIRED name is among them. Programs
# linking the library keep every other name for themselves.
set -euo pipefail

lib=$1 allowed=$2
shift 2

case $lib in
*.a) syms=$(nm -g --defined-only "$lib") ;;
*) syms=$(nm -D --defined-only "$lib") ;;
esac
# "ADDRESS TYPE NAME" lines; member headers and blank lines have no type.
names=$(awk 'NF == 3 { print $3 } NF == 2 && $1 ~ /^[A-Za-z]$/ { print $2 }' \
	<<<"$syms" | sort -u)

status=0
stray=$(grep -Ev "^($allowed)\$" <<<"$names" || true)
if [ -n "$stray" ]; then
	echo "symbols_test: $lib defines names outside /^($allowed)\$/:" >&2
	# shellcheck disable=SC2001 # indent every line
	sed 's/^/  /' <<<"$stray" >&2
	status=1
fi
for name in "$@"; do
	if ! grep -qx "$name" <<<"$names"; then
		echo "symbols_test: $lib does not define $name" >&2
		status=1
	fi
done
[ $status = 0 ] && echo "$lib: $(wc -l <<<"$names") global symbols, all allowed"
exit $status
