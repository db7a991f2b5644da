#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# deps.sh [KERNEL...]
#
# Install what building, testing and benchmarking epollmod needs, from
# Debian's archive. Idempotent: silent when everything is there already.
#
# Each KERNEL is another Debian kernel to install, image and headers, for
# make test KVER=... (scripts/kernel.sh asks for them):
#   6.12     bookworm-backports' 6.12, the one its linux-image-amd64 points
#            to (bookworm-backports is enabled first if it is not); the
#            metapackage itself is never installed: linux-image-amd64 stays
#            the distro kernel
#   RELEASE  linux-image-RELEASE and linux-headers-RELEASE, e.g.
#            6.1.0-57-amd64, from whatever suite apt knows it from
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
	# the kernels built here (scripts/kernel-build.sh); pahole's version is
	# in their configuration, and 6.12's headers pull it in: a kernel
	# configured before that would warn at every module build
	bc bison flex libelf-dev pahole
	# real programs run in the VM, and style checks
	python3 clang-format
	# the manual pages' lint (lib/tests/man_test.sh)
	mandoc
	# redis-server (as redis-check-rdb), redis-cli and redis-benchmark,
	# without the redis-server package's service
	redis-tools
	# libevent for its kqueue backend on the module
	# (scripts/kqueue-realprog.sh): its Debian source package, unpacked
	# by dpkg-source; zlib so that its regress suite's zlib tests run
	dpkg-dev zlib1g-dev
	# make bench's plots
	gnuplot-nox fonts-dejavu-core
	# make bench's io_uring echo server (bench/uring.c); without it that
	# column is skipped and says so
	liburing-dev
)

# backports_kernel: the release string of bookworm-backports' 6.12.
backports_kernel() {
	local version
	version=$(apt-cache madison linux-image-amd64 |
		awk -F' *[|] *' '$3 ~ /bookworm-backports\/main/ { print $2 }' |
		sort -V | tail -n1)
	[ -n "$version" ] || return 1
	apt-cache show "linux-image-amd64=$version" |
		sed -n 's/^Depends:.*linux-image-\(6\.12\.[^ ,]*\).*/\1/p' |
		head -n1 | grep .
}

updated=0
update() {
	[ $updated = 1 ] && return
	apt-get update -qq
	updated=1
}

for kernel in "$@"; do
	case $kernel in
	6.12)
		# An installed 6.12 from Debian, with its headers, will do.
		for build in /lib/modules/6.12.*+deb12-amd64/build; do
			release=${build#/lib/modules/}
			release=${release%/build}
			[ -d "$build" ] && [ -r "/boot/vmlinuz-$release" ] &&
				continue 2
		done
		[ "$(id -u)" -eq 0 ] ||
			die "6.12 is not installed: run scripts/deps.sh 6.12 as root"
		if ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list \
			/etc/apt/sources.list.d/; then
			note "enabling bookworm-backports"
			cat >/etc/apt/sources.list.d/epollmod-backports.sources <<-EOF
				Types: deb
				URIs: http://deb.debian.org/debian
				Suites: bookworm-backports
				Components: main
				Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
			EOF
			updated=0
		fi
		update
		release=$(backports_kernel) ||
			die "bookworm-backports has no 6.12 kernel"
		PACKAGES+=("linux-image-$release" "linux-headers-$release")
		;;
	[0-9]*)
		PACKAGES+=("linux-image-$kernel" "linux-headers-$kernel")
		;;
	*) die "deps.sh: unknown kernel '$kernel' (6.12, or a release string)" ;;
	esac
done

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
update
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
