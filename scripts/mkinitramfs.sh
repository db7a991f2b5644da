#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# mkinitramfs.sh KVER OUTPUT [MODULE_BASEDIR]
#
# The test VM's initramfs: busybox, scripts/guest/init, and the modules
# that mount the host's root over 9p (virtio-pci, 9p, overlay), in the
# order modprobe would load them. Modules built into the kernel are
# skipped; MODULE_BASEDIR is where lib/modules/KVER lives (default /).
# Compressed modules (Debian's .ko.xz from 6.6 on) are stored
# decompressed: busybox's insmod loads plain .ko files only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kver=$1
out=$2
basedir=${3:-/}

need busybox busybox-static
need cpio cpio
need modprobe kmod
need xz xz-utils

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,dev,proc,sys,lower,rw,host,lib/modules}
cp "$(command -v busybox)" "$stage/bin/busybox"
cp "$EPM_ROOT/scripts/guest/init" "$stage/init"
chmod 755 "$stage/init"

# One insmod per module, dependencies first, each module once.
n=0
for mod in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -d "$basedir" -S "$kver" --show-depends "$mod" 2>/dev/null ||
		die "modprobe cannot resolve $mod for $kver"
done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
while read -r ko; do
	n=$((n + 1))
	base=$(basename "$ko")
	dest=$stage/lib/modules/$(printf '%02d' "$n")-${base%.ko*}.ko
	case $ko in
	*.ko) cp "$ko" "$dest" ;;
	*.ko.xz) xz -dc "$ko" >"$dest" ;;
	*.ko.zst) zstd -qdc "$ko" >"$dest" ;;
	*.ko.gz) gzip -dc "$ko" >"$dest" ;;
	*) die "cannot load $ko in the initramfs" ;;
	esac
done

(cd "$stage" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
