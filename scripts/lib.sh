# SPDX-License-Identifier: GPL-2.0
# Sourced by the other scripts: paths, messages, and the kernel the VM boots.

EPM_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EPM_BUILD=${EPM_BUILD:-$EPM_ROOT/build}

die() {
	echo "epollmod: $*" >&2
	exit 1
}

note() {
	echo "epollmod: $*" >&2
}

# need TOOL PACKAGE: a missing tool names the package that has it.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found: install the Debian package '$2' (scripts/deps.sh does)"
}

# The version of Debian's distro kernel (linux-image-amd64), e.g.
# 6.1.0-56-amd64: the kernel the test VM boots and the module builds for.
distro_kver() {
	local kver
	kver=$(dpkg-query -W -f='${Depends}\n' linux-image-amd64 2>/dev/null |
		grep -o 'linux-image-[^ ,(]*' | head -n1)
	kver=${kver#linux-image-}
	[ -n "$kver" ] || die "no distro kernel: install linux-image-amd64 (scripts/deps.sh does)"
	echo "$kver"
}
