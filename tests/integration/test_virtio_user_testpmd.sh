#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Stock dpdk-testpmd as the guest: its virtio-user ports, in io forwarding
# with --tx-first, keep a fixed population of frames circulating through
# vhostd both ways (ring: out to the loopback and back; g2g: port 0 -> vhostd
# -> port 1 -> testpmd -> port 1 -> vhostd -> port 0; tap, on request: the
# same across a TAP and the kernel). After a few seconds vhostd's own counters (SIGUSR1)
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
		# lcore lines "lcore L pA:qa -> pB:qb rx N tx N drop-<why> N ...":
		# every drop counter is 0, and each direction pA -> pB carried
		# traffic (summed over queues: a kernel path may hash every frame
		# of these flows onto one queue)
		awk -v n="$name" '/^lcore / {
			split($3, a, ":")
			split($5, b, ":")
			d = a[1] "->" b[1]
			for (i = 6; i < NF; i++) {
				if ($i ~ /^drop/ && $(i + 1) != 0) { print n ": drops: " $0; bad = 1 }
				if ($i == "rx") rx[d] += $(i + 1)
			}
		} END {
			for (d in rx) if (rx[d] < 1000) { print n ": little traffic " d ": " rx[d]; bad = 1 }
			exit bad || length(rx) == 0
		}' "$VD_TMP/$name.stats" ||
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

# VD_TESTPMD_CASES picks the cases, e.g. "tap:1:split tap:2:packed".
# TAP is not in the default set: with vhostd the --tx-first burst that the
# second guest sends through af_packet into the TAP is lost at startup
# (af_packet counts tx-errors; vhostd's forwarding counters are clean) and
# that direction never starts circulating, while the same topology passes
# with vd_pktcheck, which waits for the path with probes and paces its
# frames (test_virtio_user_tap.sh). Not yet explained; see the test report.
CASES=${VD_TESTPMD_CASES:-ring:1:split ring:2:packed g2g:1:packed g2g:2:split}
for c in $CASES; do
	IFS=: read -r topo q ring <<<"$c"
	if [ "$topo" = tap ] && { [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ]; }; then
		vd_log "no root or /dev/net/tun: $c not run"
		continue
	fi
	testpmd_case "$topo" "$q" "$ring"
done
vd_log "testpmd frontend cases passed"
