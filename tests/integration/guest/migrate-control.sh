#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Control experiment for test_qemu_migrate.sh: does QEMU itself keep guest RAM
# intact across a live migration on this host, with no vhostd anywhere? A
# guest on QEMU's own virtio-net (a TAP in a bridge, vhost=off) runs the
# migration test's workload (pings, verified TCP transfers) plus a shell loop
# that keeps writing guest memory (vd.burn=1); it migrates to a paused
# destination whose RAM is compared with the stopped source's (vd_memcmp.py).
#
# Usage: migrate-control.sh [RUNS [PAD_KIB]]  (root, qemu, python3)
#   RUNS     migrations (default 10); one line each, then "N of RUNS lost".
#   PAD_KIB  KiB added to the 256 MiB guest RAM (default 0; see
#            test_qemu_migrate.sh for why the migration test adds 8).
# Exit status: 0 when no run lost a page, 1 otherwise, 77 when it cannot run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest-lib.sh"

if [ "${1:-}" != --one ]; then
	runs=${1:-10}
	pad=${2:-0}
	lost=0
	for i in $(seq 1 "$runs"); do
		rc=0
		out=$(bash "${BASH_SOURCE[0]}" --one "$pad" 2>&1) || rc=$?
		[ $rc -eq $VDG_SKIP ] && { echo "$out" | tail -1 >&2; exit $VDG_SKIP; }
		[ $rc -eq 0 ] || lost=$((lost + 1))
		echo "run $i: $(echo "$out" | grep -a -m1 -e 'vd_memcmp:' -e 'FAIL' || echo "rc $rc")"
	done
	echo "$lost of $runs runs lost guest writes (guest RAM 256 MiB + $pad KiB)"
	[ $lost -eq 0 ]
	exit
fi

# shellcheck disable=SC2034 # read by vdg_qemu
VDG_MEM_PAD_K=$2
vdg_init control
[ "$(id -u)" -eq 0 ] || vdg_skip "needs root for the TAPs"
command -v python3 >/dev/null || vdg_skip "python3 not installed"
vdg_build
vdg_accel
VDG_ID=$(($$ % 100000))
VDG_NET=10.214.$(($$ % 200 + 20))
for t in a b; do
	ip tuntap add dev "vdg${VDG_ID}$t" mode tap
	VDG_CLEANUP_HOOKS+=("ip link del vdg${VDG_ID}$t 2>/dev/null")
done
vdg_bridge "vdg${VDG_ID}br" "$VDG_NET.1/24" "vdg${VDG_ID}a" "vdg${VDG_ID}b"

vdg_peer 1000000 300

mac=$(vdg_mac 1)
app="quiet vd.ip=$VDG_NET.2/24 vd.peer=$VDG_NET.1 vd.test=pingwatch vd.secs=40 vd.tcp=1 \
vd.rxsha=$VDG_RXSHA vd.burn=1 vd.timeout=120"
nic() {
	echo "-netdev tap,id=n0,ifname=vdg${VDG_ID}$1,script=no,downscript=no,vhost=off"
	echo "-device virtio-net-pci,netdev=n0,mac=$mac"
}
# shellcheck disable=SC2046
vdg_qemu src "$app" $(nic a)
ps=$VDG_PID
slog=$VDG_LOG
# shellcheck disable=SC2046
vdg_qemu dst "$app" $(nic b) -incoming "unix:$VDG_TMP/mig.sock" -S
pd=$VDG_PID
vdg_wait_line "$slog" '^VDTEST PING 3 ok' 150 "$ps" >/dev/null || vdg_fail "no traffic"
vdg_migrate src "$VDG_TMP/mig.sock" 90 || vdg_fail "migration failed"
rc=0
vdg_ram_compare "$ps" dst "$pd" || rc=$?
cat "$VDG_TMP/memcmp.log" >&2
exit $rc
