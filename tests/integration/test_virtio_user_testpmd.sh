#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock dpdk-testpmd as the guest: its virtio-user ports, in io forwarding
# with --tx-first, keep a fixed population of frames circulating through
# vhostd both ways (ring: out to the loopback and back; g2g: port 0 -> vhostd
# -> port 1 -> testpmd -> port 1 -> vhostd -> port 0; tap: the same across a
# TAP and the kernel). After a few seconds vhostd's own counters (SIGUSR1)
# must show traffic in both directions on every port and not one dropped
# frame; testpmd must report no TX/RX drop either. Split and packed rings,
# 1 and 2 queue pairs. (Byte-level checks are vd_pktcheck's job, see
# virtio_user_matrix.sh; this proves the stock application works.)

set -u
. "$(dirname "$0")/lib.sh"

BACKEND=${VD_BACKEND:-vhostd}
vd_init "virtio_user_testpmd_$BACKEND"
command -v dpdk-testpmd >/dev/null || vd_skip "no dpdk-testpmd"
[ "$BACKEND" = vhostd ] && vd_need_exe VHOSTD
vd_need_hugepages 768
SECS=${VD_TESTPMD_SECS:-3}

# testpmd_case TOPO Q RING
testpmd_case()
{
	local topo=$1 q=$2 ring=$3 name devs=() extra="" ports i rx tx rxd txd
	name="${topo}_q${q}_${ring}"
	vd_topo_init "$topo"
	[ "$ring" = packed ] && extra=",packed_vq=1"
	vd_topo_setup_kernel
	# shellcheck disable=SC2046
	VD_VDEV_QUEUES=$q vd_backend_start "$BACKEND" $(vd_topo_ports "$q")
	vd_topo_after_backend
	devs=(--vdev "net_virtio_user0,path=$S0,queues=$q$extra")
	[ "$(vd_topo_guests)" = 2 ] && devs+=(--vdev "net_virtio_user1,path=$S1,queues=$q$extra")
	# shellcheck disable=SC2046
	vd_start "fe_$name" dpdk-testpmd $(vd_fe_eal "fe_$name" 256) \
		--lcores "0@$VD_CPU1,1@$VD_CPU0" "${devs[@]}" -- \
		--stats-period 1 --forward-mode=io --tx-first --nb-cores=1 \
		--rxq="$q" --txq="$q" --total-num-mbufs=8192
	vd_wait_log "fe_$name" "Port statistics" 20
	sleep "$SECS"
	vd_alive "fe_$name" || vd_fail "$name: testpmd died"
	if [ "$BACKEND" = vhostd ]; then
		# Snapshot vhostd's counters while the frames still circulate: once
		# the frontend leaves, frames in flight are rightly dropped.
		i=$(wc -l <"$VD_TMP/backend.log")
		kill -USR1 "$(vd_pid backend)"
		sleep 0.5
		tail -n +"$((i + 1))" "$VD_TMP/backend.log" >"$VD_TMP/$name.stats"
		grep -q 'vhostd stats' "$VD_TMP/$name.stats" || vd_fail "$name: no stats on SIGUSR1"
		# every lcore line: rx N tx N drop-full 0 drop-offload 0
		awk -v n="$name" '/^lcore / {
			for (i = 1; i < NF; i++) v[$i] = $(i + 1)
			if (v["drop-full"] != 0 || v["drop-offload"] != 0) { print n ": drops: " $0; bad = 1 }
			if (v["rx"] < 1000) { print n ": little traffic: " $0; bad = 1 }
			lines++
		} END { exit bad || lines == 0 }' "$VD_TMP/$name.stats" ||
			{ cat "$VD_TMP/$name.stats" >&2; vd_fail "$name: vhostd counters"; }
	fi
	vd_stop "fe_$name" 15 || vd_fail "$name: testpmd exit status $?"
	vd_check_log_clean "fe_$name"
	read -r rx rxd tx txd < <(awk '/Accumulated forward statistics/ {f = 1}
		f && /RX-packets:/ {rx = $2; rxd = $4} f && /TX-packets:/ {tx = $2; txd = $4}
		END {print rx, rxd, tx, txd}' "$VD_TMP/fe_$name.log")
	vd_log "$name: testpmd rx=$rx rx_dropped=$rxd tx=$tx tx_dropped=$txd"
	[ -n "$rx" ] && [ "$rx" -ge 10000 ] || vd_fail "$name: only ${rx:-no} frames came back"
	[ "$rxd" = 0 ] && [ "$txd" = 0 ] || vd_fail "$name: testpmd dropped frames"
	vd_backend_stop
	rm -f "$S0" "$S1"
	for ports in "${VD_CLEANUP_CMDS[@]}"; do eval "$ports" >/dev/null 2>&1; done
	VD_CLEANUP_CMDS=()
}

testpmd_case ring 1 split
testpmd_case ring 2 packed
testpmd_case g2g 1 packed
testpmd_case g2g 2 split
if [ "$(id -u)" = 0 ] && [ -c /dev/net/tun ]; then
	testpmd_case tap 1 split
	testpmd_case tap 2 packed
else
	vd_log "no root or /dev/net/tun: TAP cases not run"
fi
vd_log "testpmd frontend cases passed"
