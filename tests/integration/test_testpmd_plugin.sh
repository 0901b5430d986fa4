#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# net_vhostd as a plugin of a stock DPDK application: dpdk-testpmd loads
# librte_net_vhostd.so with -d and serves a vhost-user socket as port 0; a
# second dpdk-testpmd on net_virtio_user plays the guest. Both forward in io
# mode and the frontend injects a first burst (--tx-first), so packets bounce
# guest -> backend -> guest until the frontend is stopped. The test requires
# that our driver (not DPDK's net_vhost) claimed the port, that the link came
# up and went down when the guest left, and that both directions moved
# packets with counters that agree: the backend cannot receive more than the
# guest sent nor the guest more than the backend sent, and neither side lost
# more than a ring's worth. Runs split, packed and split without mergeable
# buffers. Skips (77) without dpdk-testpmd or free hugepages.
set -uo pipefail

log() { echo "testpmd_plugin: $*"; }
skip() {
	log "SKIP: $*"
	exit 77
}
fail() {
	log "FAIL: $*"
	for f in "$TMP"/*.log; do
		[ -f "$f" ] && { echo "---- $f (tail)"; tr -d '\033' <"$f" | tail -40; }
	done
	exit 1
}

TESTPMD=${TESTPMD:-$(command -v dpdk-testpmd || true)}
[ -n "$TESTPMD" ] || skip "dpdk-testpmd not installed"
PMD_SO=${PMD_SO:-${BUILD_DIR:-}/pmd/librte_net_vhostd.so}
[ -f "$PMD_SO" ] || {
	log "FAIL: plugin $PMD_SO not built"
	exit 1
}
free_hp=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
[ "${free_hp:-0}" -ge 160 ] || skip "only ${free_hp:-0} free 2 MiB hugepages (need 160)"

TMP=$(mktemp -d /tmp/vd-testpmd-plugin.XXXXXX)
PIDS=()
PLUGDIR=
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
	[ -z "$PLUGDIR" ] || rm -rf "$PLUGDIR"
	# testpmd leaves its EAL runtime directory even with --in-memory.
	rm -rf /var/run/dpdk/vdbe$$* /var/run/dpdk/vdfe$$*
}
trap cleanup EXIT

# EAL refuses to dlopen a plugin if any directory of its path is
# world-writable (/tmp is), so load a copy from a private directory.
secure_dir() {
	local d=$1
	while [ -n "$d" ] && [ "$d" != / ]; do
		[ -z "$(find "$d" -maxdepth 0 -perm -0002)" ] || return 1
		d=$(dirname "$d")
	done
}
for parent in /run "${HOME:-}"; do
	[ -n "$parent" ] && [ -d "$parent" ] && [ -w "$parent" ] && secure_dir "$parent" || continue
	PLUGDIR=$(mktemp -d -p "$parent" vd-testpmd-plugin.XXXXXX) && break
done
[ -n "$PLUGDIR" ] || skip "no directory without world-writable parents to load the plugin from"
chmod 0755 "$PLUGDIR"
cp "$PMD_SO" "$PLUGDIR/" || fail "cannot copy $PMD_SO"
PMD_SO=$PLUGDIR/$(basename "$PMD_SO")

# Stop one testpmd by PID: SIGINT (it prints its final stats), then SIGKILL.
stop_pid() {
	local pid=$1
	kill -INT "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# Last value of "<key>: N" in the periodic NIC statistics of a testpmd log.
last_stat() {
	tr -d '\033' <"$1" | grep -ao "$2: *[0-9]*" | tail -1 | awk '{print $2}'
}

EAL_COMMON=(--no-pci --in-memory -m 128 --log-level=pmd.net.vhostd:info)
# --no-flush-rx: the backend testpmd waits for link up before it starts
# forwarding, and then drains its RX queues; the guest's --tx-first burst may
# already be there and is the only one, so draining it would leave nothing to
# bounce (backend NIC RX 32, forward RX 0, guest stuck at TX 32).
TPMD_COMMON=(--stats-period 1 --forward-mode=io --nb-cores=1 --rxq=1 --txq=1
	--total-num-mbufs=4096 --burst=32 --no-flush-rx)

# One run: backend and guest testpmd, packets bounce for a few seconds, then
# the guest leaves first so the backend's counters settle. $1 names the case,
# $2 is extra net_virtio_user devargs (ring layout, mergeable buffers).
run_case() {
	local name=$1 fe_args=$2 sock=$TMP/$1.sock be_log=$TMP/$1-be.log fe_log=$TMP/$1-fe.log
	local be fe be_rx be_tx fe_rx fe_tx v

	# Backend: main lcore on CPU 0, forwarding lcore on CPU 1.
	"$TESTPMD" "${EAL_COMMON[@]}" --file-prefix "vdbe$$$name" --lcores 0@0,1@1 \
		-d "$PMD_SO" --vdev "net_vhostd0,iface=$sock" -- "${TPMD_COMMON[@]}" \
		</dev/null >"$be_log" 2>&1 &
	be=$!
	PIDS+=("$be")
	for _ in $(seq 1 100); do
		[ -S "$sock" ] && break
		kill -0 "$be" 2>/dev/null || fail "$name: backend testpmd exited early"
		sleep 0.1
	done
	[ -S "$sock" ] || fail "$name: backend did not create $sock"
	grep -aq "net_vhostd: net_vhostd0: listening on $sock" "$be_log" ||
		fail "$name: port not probed by net_vhostd (another driver claimed net_vhostd0?)"

	# Frontend (the guest): forwarding lcore on the other CPU.
	"$TESTPMD" "${EAL_COMMON[@]}" --single-file-segments --file-prefix "vdfe$$$name" \
		--lcores 0@1,1@0 --vdev "net_virtio_user0,path=$sock,queues=1$fe_args" -- \
		"${TPMD_COMMON[@]}" --tx-first </dev/null >"$fe_log" 2>&1 &
	fe=$!
	PIDS+=("$fe")

	# Let the packets bounce; the backend must report link up on the way.
	for _ in $(seq 1 100); do
		grep -aq "net_vhostd: $sock: link up" "$be_log" && break
		kill -0 "$fe" 2>/dev/null || fail "$name: frontend testpmd exited early"
		sleep 0.1
	done
	grep -aq "net_vhostd: $sock: link up" "$be_log" || fail "$name: link never came up"
	sleep 5

	# Frontend first: after it stops, the backend's counters stop moving.
	stop_pid "$fe"
	sleep 2.5
	grep -aq "net_vhostd: $sock: link down" "$be_log" ||
		fail "$name: no link down after the frontend left"
	stop_pid "$be"

	be_rx=$(last_stat "$be_log" RX-packets)
	be_tx=$(last_stat "$be_log" TX-packets)
	# The frontend's totals as of its exit (accumulated forward statistics).
	fe_rx=$(tr -d '\033' <"$fe_log" | sed -n '/Accumulated forward statistics/,$p' |
		grep -ao 'RX-packets: *[0-9]*' | head -1 | awk '{print $2}')
	fe_tx=$(tr -d '\033' <"$fe_log" | sed -n '/Accumulated forward statistics/,$p' |
		grep -ao 'TX-packets: *[0-9]*' | head -1 | awk '{print $2}')
	log "$name: backend rx=$be_rx tx=$be_tx, frontend rx=$fe_rx tx=$fe_tx"
	for v in be_rx be_tx fe_rx fe_tx; do
		[ -n "${!v}" ] || fail "$name: no $v counter in the logs"
		[ "${!v}" -ge 1000 ] || fail "$name: $v=${!v}: fewer than 1000 packets"
	done
	# A packet is counted by the receiver only once the sender counted it; at
	# most a ring (256) plus a burst may be in flight or dropped at the disconnect.
	[ "$be_rx" -le "$fe_tx" ] || fail "$name: backend received more than the guest sent"
	[ "$fe_rx" -le "$be_tx" ] || fail "$name: guest received more than the backend sent"
	[ $((fe_tx - be_rx)) -le 288 ] || fail "$name: guest->backend lost $((fe_tx - be_rx))"
	[ $((be_tx - fe_rx)) -le 288 ] || fail "$name: backend->guest lost $((be_tx - fe_rx))"
}

run_case split ""
run_case packed ",packed_vq=1"
run_case split_nomrg ",mrg_rxbuf=0"
log "PASS"
