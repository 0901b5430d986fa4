#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install DPDK's driver SDK headers (ethdev_driver.h, ethdev_vdev.h,
# bus_vdev_driver.h, dev_driver.h, bus_driver.h) for the installed libdpdk-dev.
# Debian builds DPDK without -Denable_driver_sdk=true, so an out-of-tree PMD
# such as net_vhostd has no struct rte_eth_dev nor RTE_PMD_REGISTER_VDEV to
# compile against. The headers come unchanged from Debian's own dpdk source
# package of exactly the installed version (so the struct layouts match the
# libraries), and go to /usr/local/include/dpdk-sdk/<version>, where
# pmd/meson.build looks for them. Idempotent; needs root (apt) and network
# access to the Debian archive. SDK_PREFIX overrides the destination root.
set -euo pipefail

ver=$(pkg-config --modversion libdpdk)
debver=$(dpkg-query -W -f='${Version}' libdpdk-dev)
dest=${SDK_PREFIX:-/usr/local/include/dpdk-sdk}/$ver
hdrs=(lib/eal/include/dev_driver.h lib/eal/include/bus_driver.h lib/ethdev/ethdev_driver.h
	lib/ethdev/ethdev_vdev.h drivers/bus/vdev/bus_vdev_driver.h)

have=1
for h in "${hdrs[@]}"; do
	[ -f "$dest/$(basename "$h")" ] || have=0
done
if [ $have -eq 1 ]; then
	echo "dpdk_sdk: driver SDK headers for DPDK $ver present in $dest"
	exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private apt state: the machine's sources and lists are left untouched.
mkdir -p "$work/lists/partial" "$work/src"
sources=$(grep -h '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1 |
	awk '{print $2}')
cat >"$work/src.sources" <<EOF
Types: deb-src
URIs: ${sources:-http://deb.debian.org/debian}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
aptopt=(-o "Dir::Etc::sourcelist=$work/src.sources" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$work/lists" -o APT::Sandbox::User=root)
apt-get -qq "${aptopt[@]}" update
(cd "$work/src" && apt-get -qq "${aptopt[@]}" source --download-only "dpdk=$debver")
orig=$(ls "$work"/src/dpdk_*.orig.tar.* | head -1)
top=$({ tar -tf "$orig" || true; } | sed -n "1s,/.*,,p")
tar -xf "$orig" -C "$work/src" "${hdrs[@]/#/$top/}"
mkdir -p "$dest"
for h in "${hdrs[@]}"; do
	install -m 0644 "$work/src/$top/$h" "$dest/"
done
echo "dpdk_sdk: installed driver SDK headers for DPDK $ver ($debver) in $dest"
