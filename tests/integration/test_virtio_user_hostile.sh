#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Hostile-frontend smoke test. vhostd serves two guests, each linked to its
# own ring loopback. While a well-behaved guest (vd_pktcheck) streams frames
# through port vm0, vd_hostile_fe.py attacks port vm1: protocol garbage, bad
# sizes and fd counts, bad memory tables and vring indexes, then real devices
# whose TX rings are hostile (avail index far ahead, heads and buffers out of
# range, loops, bad indirect tables, write-only buffers, over-long chains).
# vhostd must stay up, the guest on vm0 must lose nothing, and a good guest
# must then work on vm1 again (the attacked device recovers on reconnect).

set -u
. "$(dirname "$0")/lib.sh"

vd_init virtio_user_hostile
vd_need_exe PKTCHECK
vd_need_exe VHOSTD
command -v python3 >/dev/null || vd_skip "no python3"
python3 -c 'import socket, os; socket.send_fds; os.memfd_create; os.eventfd' 2>/dev/null ||
	vd_skip "python3 too old (send_fds, memfd_create, eventfd)"
vd_need_hugepages 512
S0=$VD_TMP/vm0.sock
S1=$VD_TMP/vm1.sock
HOSTILE="$(dirname "$0")/vd_hostile_fe.py"

vd_backend_start vhostd "vhost:$S0:1" "vdev:net_ring_a" "vhost:$S1:1" "vdev:net_ring_b"

# the bystander: ~4 s of paced traffic on vm0, in the background
# shellcheck disable=SC2046
vd_start bystander "$PKTCHECK" $(vd_fe_eal bystander 192) --lcores "0@$VD_CPU0" \
	--vdev "net_virtio_user0,path=$S0" -- --mode loop --size 1518 --count 20000 \
	--rate 5000 --window 64 --timeout 60
# EAL init and the probe phase take about a second
sleep 2
vd_alive bystander || vd_fail "guest on vm0 did not start"

vd_log "attacking $S1"
python3 "$HOSTILE" "$S1" >"$VD_TMP/hostile.log" 2>&1
rc=$?
cat "$VD_TMP/hostile.log" >&2
vd_alive backend || vd_fail "vhostd died under attack"
[ $rc = 0 ] || vd_fail "hostile frontend could not finish (rc $rc): socket gone?"

# the bystander must finish clean
pid=$(vd_pid bystander)
wait "$pid"
rc=$?
grep '^PKTCHECK ' "$VD_TMP/bystander.log" >&2
[ $rc = 0 ] || vd_fail "guest on vm0 was disturbed (rc $rc)"

# Each datapath attack must have been caught, not merely survived: the
# attacked port's counters (port 2 = p2) name every check that fired.
for x in err_avail_idx err_head err_addr err_loop err_indirect err_order; do
	v=$(vd_xstat vhostd 2 "rx_q0_$x")
	[ -n "$v" ] || vd_fail "no xstat rx_q0_$x on the attacked port (telemetry?)"
	((v > 0)) || vd_fail "attack not caught: rx_q0_$x = 0"
	vd_log "attacked port: rx_q0_$x = $v"
done
[ "$(vd_xstat vhostd 0 rx_errors)" = 0 ] || vd_fail "bystander port has rx_errors"

# the attacked port serves a good guest again
vd_pktcheck recovered "path=$S1" -- --mode loop --size 9000 --count 500 --window 32 ||
	vd_fail "port vm1 did not recover after the attacks"
vd_alive backend || vd_fail "vhostd died"
vd_backend_stop
# guest-triggered errors are logged once or rate-limited, never a flood
lines=$(wc -l <"$VD_TMP/backend.log")
((lines < 400)) || vd_fail "vhostd logged $lines lines under attack"
vd_log "vhostd survived every attack; log has $lines lines"
