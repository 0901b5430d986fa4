#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Device variants a QEMU user may pick, each a fresh guest on a vhostd port in
# server mode bridged to a TAP stand-in, each asserting traffic the guest
# kernel sends and receives:
#  a. packed=on: the guest negotiated VIRTIO_F_RING_PACKED; ping and TCP both
#     ways with SHA-256 checks.
#  b. mq=on, 2 queue pairs, -smp 2 (on a second port with queues=2, linked to a
#     2-queue TAP): the guest enabled both pairs and sent one verified TCP flow
#     from each vCPU; vhostd's per-queue counters show guest TX on both queues.
# Jumbo frames and mrg_rxbuf=off are covered guest to guest (test_qemu_g2g.sh):
# DPDK 22.11's net_tap cannot take an MTU above 1500 through ethdev.
# Skips (77) without qemu, a guest kernel, hugetlbfs or vhostd.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

vdg_start features python3

sock=$VDG_TMP/vm0.sock
sock1=$VDG_TMP/vm1.sock
tap=vdg${VDG_ID}t
tap1=vdg${VDG_ID}q
net1=10.214.${VDG_NET##*.}
{
	vdg_conf_eal
	vdg_conf_vm_tap "$sock" "$tap" mode=server packed=yes tso=yes
	vdg_conf_vhu vm1 "$sock1" mode=server queues=2 tso=yes
	vdg_conf_tap tap1 "net_tap_vdg${VDG_ID}q" "$tap1" queues=2
	vdg_conf_link l1 vm1 tap1
} >"$VDG_TMP/vhostd.conf"
vdg_vhostd_serve d "$VDG_TMP/vhostd.conf" "$sock" "$sock1"
vdg_tap_up "$tap" "$VDG_NET.1/24"
vdg_tap_up "$tap1" "$net1.1/24"

vdg_peer 2000000 900
python3 "$VDG_DIR/vd_peer.py" --bind "$net1.1" --lifetime 900 >"$VDG_TMP/peer1.log" 2>&1 &
vdg_track $!
vdg_wait_line "$VDG_TMP/peer1.log" "listen .*:5001" 10 >/dev/null || vdg_fail "peer 1 did not start"

common="quiet vd.bytes=2000000 vd.timeout=240"
failed=

# boot NAME SOCKET TESTS "KERNEL ARGS" DEVICE-OPTION...: one guest, its checks, its exit.
boot() {
	local name=$1 s=$2 tests=$3 append=$4 t rc=0
	shift 4
	# shellcheck disable=SC2046
	vdg_qemu "$name" "$common vd.test=$tests $append" \
		$(vdg_vhu_args n0 "$s" client "mac=$(vdg_mac 1)" "$@")
	vdg_wait_line "$VDG_LOG" '^VDTEST (DONE|TIMEOUT)' 260 "$VDG_PID" >/dev/null || true
	vdg_wait_exit "$VDG_PID" 20 || true
	for t in ${tests//,/ }; do
		vdg_result "$VDG_LOG" "$t" || rc=1
	done
	[ $rc -eq 0 ] || { vdg_dump "$name"; failed="$failed $name"; }
	return $rc
}

# Feature bit B of the guest's negotiated features (from the link check).
featbit() {
	local f
	f=$(vdg_features "$VDG_TMP/$1.log")
	echo "${f:$2:1}"
}

t0=$SECONDS
# a. packed ring (VIRTIO_F_RING_PACKED = bit 34)
if boot packed "$sock" link,ping,tcp "vd.ip=$VDG_NET.2/24 vd.peer=$VDG_NET.1 vd.rxsha=$VDG_RXSHA \
vd.rxbytes=2000000" packed=on; then
	[ "$(featbit packed 34)" = 1 ] || { vdg_log "packed: ring not packed"; failed="$failed packed"; }
fi

# b. two queue pairs
# shellcheck disable=SC2034 # read by vdg_qemu
VDG_SMP=2
if boot mq "$sock1" link,mq "vd.ip=$net1.2/24 vd.peer=$net1.1 vd.queues=2" queues=2; then
	d0=$(vdg_vhostd_qrx d vm1:0)
	d1=$(vdg_vhostd_qrx d vm1:1)
	r0=$(vdg_vhostd_qrx d tap1:0)
	r1=$(vdg_vhostd_qrx d tap1:1)
	vdg_log "mq: guest TX packets per queue: q0 $d0, q1 $d1 (host->guest so far: q0 $r0, q1 $r1)"
	# Each vCPU's flow is 2 MB: about 31 frames of 64 KiB with TSO, and the
	# only other guest TX is a handful of ARP/handshake frames.
	[ "$d0" -ge 10 ] && [ "$d1" -ge 10 ] || { vdg_log "mq: a queue carried no flow"; failed="$failed mq"; }
fi

kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || failed="$failed vhostd-died"
if [ -n "$failed" ]; then
	vdg_vhostd_log d
	vdg_fail "failed:$failed"
fi
vdg_log "PASS (accel=$VDG_ACCEL, two boots in $((SECONDS - t0))s)"
