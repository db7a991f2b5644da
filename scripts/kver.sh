#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Print the version of the distro kernel the VM boots (linux-image-amd64).
. "$(dirname "$0")/lib.sh"
distro_kver
