#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Prepare a Debian 12 machine for building and testing vhostd. Idempotent:
# installs the Debian packages that are missing, reserves hugepages and mounts
# hugetlbfs. Needs root (or sudo). HUGEPAGES overrides the 2 MiB page count.
set -euo pipefail

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

PKGS=(build-essential pkg-config meson ninja-build libdpdk-dev dpdk-dev libnuma-dev
	libcmocka-dev clang clang-format clang-tools llvm libclang-rt-14-dev python3
	qemu-system-x86 busybox-static gnuplot-nox cpio xz-utils kmod iproute2 procps)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

# DPDK's driver SDK headers (not in Debian's libdpdk-dev) for pmd/.
$SUDO bash "$(dirname "$0")/../pmd/dpdk_sdk.sh"

# Hugepages: DPDK processes (vhostd, testpmd frontends, the baseline) take their
# memory from here. Only raise the reservation, never lower it under a tenant.
want=${HUGEPAGES:-1536}
have=$(cat /proc/sys/vm/nr_hugepages)
if [ "$have" -lt "$want" ]; then
	echo "$want" | $SUDO tee /proc/sys/vm/nr_hugepages >/dev/null
	have=$(cat /proc/sys/vm/nr_hugepages)
	[ "$have" -ge 256 ] || { echo "setup: only $have hugepages could be reserved" >&2; exit 1; }
fi
if ! awk '$3 == "hugetlbfs" { found = 1 } END { exit !found }' /proc/mounts; then
	$SUDO mkdir -p /dev/hugepages
	$SUDO mount -t hugetlbfs nodev /dev/hugepages
fi
echo "setup: ok ($(cat /proc/sys/vm/nr_hugepages) hugepages of 2 MiB, hugetlbfs mounted)"
