#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# debug-kernel.sh: builds, once, the debug kernel for the test VM and prints
# the directory that holds it as the last line of stdout.
#
# The kernel is Debian's linux-source-6.1 configured as allnoconfig plus
# scripts/debug-kernel.config: KASAN, lockdep, kmemleak, debug objects and
# fault injection, with all the VM appliance needs built in. The build and
# its cache, in ${EPM_KERNEL_CACHE:-/var/cache/epollmod}/debug-kernel-*,
# are scripts/kernel-build.sh's, which says what the directory holds.
#
#   dir=$(scripts/debug-kernel.sh)
#   scripts/vm.sh --kernel "$dir/bzImage" --kver "$(cat "$dir/kver")" \
#       --modules "$dir/modroot" --name dbg -- COMMAND
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src_pkg=linux-source-6.1
src_tar=/usr/src/$src_pkg.tar.xz
[ -r "$src_tar" ] ||
	die "debug-kernel: missing packages: $src_pkg
install them with: apt-get install $src_pkg  (or: make deps)"
src_version=$(dpkg-query -W -f='${Version}' "$src_pkg" 2>/dev/null) ||
	die "debug-kernel: $src_pkg is not installed as a package"

exec "$EPM_ROOT/scripts/kernel-build.sh" debug-kernel "$src_tar" \
	"$src_version" "$EPM_ROOT/scripts/debug-kernel.config" -epmdbg
