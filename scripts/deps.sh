#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what building, testing and benchmarking epollmod needs, from
# Debian's archive. Idempotent: silent when everything is there already.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(
	# the module, the library, the selftests
	make gcc g++ cmake pkg-config kmod libc6-dev libcap-dev libcap2-bin
	linux-headers-amd64
	# dkms.conf's check (scripts/dkms-check.sh)
	dkms
	# kselftest_harness.h and checkpatch.pl come from the kernel source
	linux-source-6.1 xz-utils perl
	# the test VM: Debian's kernel under QEMU, a busybox initramfs; the
	# guest runs the host's tools (sysctl, dmesg, setsid...)
	linux-image-amd64 qemu-system-x86 busybox-static cpio gzip procps
	util-linux
	# the debug kernel (scripts/debug-kernel.sh)
	bc bison flex libelf-dev
	# real programs run in the VM, and style checks
	python3 clang-format
	# the manual pages' lint (lib/tests/man_test.sh)
	mandoc
	# redis-server (as redis-check-rdb), redis-cli and redis-benchmark,
	# without the redis-server package's service
	redis-tools
	# make bench's plots
	gnuplot-nox fonts-dejavu-core
)

missing=()
# dpkg-query fails for packages it has never seen: those are missing too.
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
	"${PACKAGES[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }' ||
	true)
for pkg in "${PACKAGES[@]}"; do
	grep -qx "$pkg" <<<"$installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	die "missing packages: ${missing[*]}
run as root: apt-get install ${missing[*]}"
fi
note "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
