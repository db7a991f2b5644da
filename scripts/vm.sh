#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# vm.sh [options] -- COMMAND [ARG...]
#
# Boots Debian's distro kernel under QEMU (TCG: there is no KVM here) with
# the host's root shared read-only, runs COMMAND as root in it, and exits
# with COMMAND's status. COMMAND's stdout comes back over a serial port of
# its own (ttyS1) and is copied here as it arrives; the kernel console goes
# to NAME/console.log.
#
# A run passes only if the guest reported COMMAND's status with this boot's
# nonce and the console shows no splat. A panic (the kernel runs with
# panic_on_warn and oops=panic), a hang (--timeout) or a boot failure
# reports no status: that fails with exit 125 and the console's tail.
#
#   --name NAME      run directory under build/vm (default: run)
#   --kernel FILE    kernel image (default: the distro kernel's vmlinuz)
#   --kver VERSION   its version, for the initramfs modules
#   --modules DIR    where lib/modules/VERSION is (default /)
# Without --kernel and --kver, EPM_VM_KERNEL, EPM_VM_KVER and EPM_VM_MODULES
# stand for them (scripts/with-kernel.sh sets them).
#   --timeout SEC    host-side limit on the whole run (default 2400)
#   --append ARGS    more kernel command line
#   --mem SIZE       guest memory (default 2G)
#   --cpus N         guest CPUs (default 2)
#   --interactive    console on this terminal (for make shell)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=run kernel='' kver='' modules=/ timeout=2400 append='' mem=2G cpus=2
interactive=0
while [ $# -gt 0 ]; do
	case $1 in
	--name) name=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--kver) kver=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--interactive) interactive=1; shift ;;
	--) shift; break ;;
	*) die "vm.sh: unknown option $1" ;;
	esac
done
[ $# -gt 0 ] || die "vm.sh: no command"
if [ -z "$kernel$kver" ] && [ -n "${EPM_VM_KVER:-}" ]; then
	kernel=${EPM_VM_KERNEL:-} kver=$EPM_VM_KVER
	modules=${EPM_VM_MODULES:-/}
fi

need qemu-system-x86_64 qemu-system-x86
kver=${kver:-$(distro_kver)}
kernel=${kernel:-/boot/vmlinuz-$kver}
[ -r "$kernel" ] || die "no kernel image $kernel: install linux-image-amd64"

rundir=$EPM_BUILD/vm/$name
mkdir -p "$rundir"
initrd=$EPM_BUILD/vm/initramfs-$kver.gz
if [ ! -s "$initrd" ] || [ "$EPM_ROOT/scripts/guest/init" -nt "$initrd" ] ||
	[ "$EPM_ROOT/scripts/mkinitramfs.sh" -nt "$initrd" ]; then
	"$EPM_ROOT/scripts/mkinitramfs.sh" "$kver" "$initrd" "$modules"
fi

# The job: COMMAND, run from the project directory, quoted as given, with
# the caller's exported EPM_* settings (EPM_STRESS_SECONDS, ...).
job=$rundir/job.sh
{
	echo '#!/bin/bash'
	echo "cd $(printf '%q' "$EPM_ROOT") || exit 126"
	echo 'export HOME=/root TERM=${TERM:-linux} LANG=C.UTF-8'
	for var in $(compgen -e | grep '^EPM_'); do
		printf 'export %s=%q\n' "$var" "${!var}"
	done
	echo 'sysctl -qw kernel.hung_task_timeout_secs=30 2>/dev/null'
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$job"

nonce=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
console=$rundir/console.log
results=$rundir/results.log
: >"$console"
: >"$results"

cmdline="console=ttyS0 panic=-1 panic_on_warn=1 oops=panic hung_task_panic=1"
cmdline+=" epm_job=$job epm_nonce=$nonce $append"

# shellcheck disable=SC2054 # the commas are in -virtfs's argument
qemu=(qemu-system-x86_64 -nodefaults -no-reboot -display none
	-machine pc -cpu max -m "$mem" -smp "$cpus"
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-chardev "file,id=results,path=$results")
if [ $interactive = 1 ]; then
	qemu+=(-serial mon:stdio -serial chardev:results)
else
	qemu+=(-chardev "file,id=console,path=$console"
		-serial chardev:console -serial chardev:results -monitor none)
fi

status=0
if [ $interactive = 1 ]; then
	"${qemu[@]}" || status=$?
else
	timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null &
	qpid=$!
	# Copy the job's output as it arrives; the token stays in the file.
	tail -n +1 -f --pid=$qpid "$results" | tr -d '\r' | grep --line-buffered -v '^EPOLLMOD-DONE ' || true
	wait $qpid || status=$?
fi

token=$(tr -d '\r' <"$results" | grep "^EPOLLMOD-DONE $nonce " | tail -n1 || true)
splats=$(grep -a -F -f "$EPM_ROOT/scripts/splat-patterns.txt" "$console" || true)
if [ -z "$token" ]; then
	if [ $status = 124 ]; then
		note "VM run '$name' hung: no result after ${timeout}s"
	else
		note "VM run '$name' ended without reporting a result (crash or panic)"
	fi
	if [ $interactive = 0 ]; then
		note "last 60 lines of $console:"
		tail -n 60 "$console" | tr -d '\r' | sed 's/^/  | /' >&2
	fi
	exit 125
fi
if [ -n "$splats" ]; then
	note "VM run '$name': the kernel log shows splats:"
	sed 's/^/  | /' <<<"$splats" | tr -d '\r' >&2
	exit 125
fi
exit "${token##* }"
