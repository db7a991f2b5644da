#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make shell: the module loaded, a root shell on the console.
insmod "${EPM_MODULE:-epollmod.ko}" || echo "insmod ${EPM_MODULE:-epollmod.ko} failed"
exec </dev/ttyS0 >/dev/ttyS0 2>&1
echo "epollmod test VM: $(uname -r), module $(cat /sys/module/epollmod/version 2>/dev/null)"
echo "selftests: build/selftests/*_test [-l] [-t GLOB]; exit (or Ctrl-D) powers off"
PS1='epollmod-vm:\w# ' setsid -c bash --norc -i
