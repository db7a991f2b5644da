#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make run: load the module and show it working through the library.
set -eu
insmod epollmod.ko
echo "module loaded: $(cat /sys/module/epollmod/version), device $(ls -l /dev/epollmod)"
build/lib/tests/no_module_test >/dev/null 2>&1 || true
python3 - <<'PY'
import ctypes, os
lib = ctypes.CDLL("build/lib/libepollmod.so")
fd = lib.epollmod_create1(0o2000000)
print(f"epollmod_create1(EPOLL_CLOEXEC) = {fd}: {os.readlink(f'/proc/self/fd/{fd}')}")
PY
rmmod epollmod
echo "module unloaded"
