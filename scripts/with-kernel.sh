#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# with-kernel.sh KERNEL COMMAND [ARG...]: runs COMMAND (make run, shell or
# bench's script) with the VM booting KERNEL (scripts/kernel.sh's names:
# 6.1, 6.12, mainline, a release string...) and the module built for it.
#
# Installs or builds KERNEL if it has to, builds the module for it under
# build/kernels/RELEASE/module (the tree's epollmod.ko is left alone), and
# exports for COMMAND:
#   EPM_VM_KERNEL, EPM_VM_KVER, EPM_VM_MODULES   vm.sh's defaults
#   EPM_MODULE                                   the module to load
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: with-kernel.sh KERNEL COMMAND [ARG...]"
kernel=$1
shift
kernel_select "$kernel" || die "kernel $kernel: cannot install or build it"
dir=$EPM_BUILD/kernels/$kernel_kver/module
if ! module_build "$kernel_kdir" "$dir"; then
	sed 's/^/  | /' "$dir/build.log" >&2
	die "cannot build epollmod.ko for $kernel_kver"
fi
note "the VM boots $kernel_kver, with $dir/epollmod.ko"
export EPM_VM_KERNEL=$kernel_image EPM_VM_KVER=$kernel_kver
export EPM_VM_MODULES=$kernel_modules EPM_MODULE=$dir/epollmod.ko
exec "$@"
