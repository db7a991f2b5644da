# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
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

# Debian's archive key, for the sources.list lines of private_apt.
# shellcheck disable=SC2034 # for the scripts that source this
debian_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# private_apt DIR: in the array apt_opts, the options of an apt whose
# sources are DIR/sources.list and whose lists and downloads stay in DIR,
# so this machine's own apt set-up is left as it is.
private_apt() {
	# shellcheck disable=SC2034 # for the caller
	apt_opts=(-o "Dir::Etc::SourceList=$1/sources.list"
		-o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$1/lists"
		-o "Dir::Cache=$1"
		-o "Dir::Cache::Archives=$1/archives"
		-o Acquire::Languages=none
		-o APT::Sandbox::User=root)
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

# kernel_select KERNEL: scripts/kernel.sh's answer for KERNEL (installing
# or building it first) in kernel_kver, kernel_kdir, kernel_image and
# kernel_modules. Fails, having said why, if the kernel cannot be had.
kernel_select() {
	local out key value
	out=$("$EPM_ROOT/scripts/kernel.sh" "$1") || return 1
	kernel_kver='' kernel_kdir='' kernel_image='' kernel_modules=''
	# shellcheck disable=SC2034 # the caller's
	while IFS='=' read -r key value; do
		case $key in
		kver) kernel_kver=$value ;;
		kdir) kernel_kdir=$value ;;
		image) kernel_image=$value ;;
		modules) kernel_modules=$value ;;
		esac
	done <<<"$out"
	[ -n "$kernel_kver" ] && [ -n "$kernel_image" ]
}

# module_build KDIR DIR [MAKE-ARG...]: a copy of the module's sources in
# DIR (emptied first), built there against KDIR: DIR/epollmod.ko, its log
# in DIR/build.log. Each kernel gets its own copy, so a build for one never
# touches another's, nor the tree's epollmod.ko. EPM_MODULE_SRC=TREE takes
# the sources from another tree (default: this one).
module_build() {
	local kdir=$1 dir=$2 src=${EPM_MODULE_SRC:-$EPM_ROOT}
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir/module"
	cp "$src/Kbuild" "$dir/" &&
		{ [ ! -e "$src/VERSION" ] || cp "$src/VERSION" "$dir/"; } &&
		cp "$src"/module/*.[ch] "$dir/module/" &&
		cp -r "$src/uapi" "$dir/" &&
		make -s -C "$kdir" M="$dir" "$@" modules >"$dir/build.log" 2>&1
}

# tap PREFIX renumbers "ok - x" / "not ok - x" lines into one TAP stream,
# counting them in n, passed, failed and skipped (the caller sets them to 0
# first), and passes the rest.
tap() {
	local prefix=$1 line
	while IFS= read -r line; do
		case $line in
		"ok - "*" # SKIP"*)
			n=$((n + 1)) skipped=$((skipped + 1))
			echo "ok $n $prefix${line#ok - }" ;;
		"ok - "*)
			n=$((n + 1)) passed=$((passed + 1))
			echo "ok $n $prefix${line#ok - }" ;;
		"not ok - "*)
			n=$((n + 1)) failed=$((failed + 1))
			echo "not ok $n $prefix${line#not ok - }" ;;
		*) echo "$line" ;;
		esac
	done
}

# phase NAME STATUS: a phase that failed without naming a failed test (a
# crash, a hang, a tool that did not run) still fails the run. Status 1
# means it named them.
phase() {
	case $2 in
	0 | 1) ;;
	125) echo "not ok - $1: the VM crashed, hung or logged a splat" ;;
	*) echo "not ok - $1: exit status $2" ;;
	esac
}
