#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# vhostd restarted under a running guest: QEMU is the vhost-user server
# (server=on), vhostd the client (mode=client). While the guest pings the host
# every second and streams SHA-256-verified TCP uploads through vhostd and a
# TAP stand-in, vhostd is SIGKILLed and started again. The guest must keep its
# interface and its pings must resume within seconds (maxgap bound), with no
# corrupted upload. Split rings only: QEMU 7.2 cannot restore a packed ring's
# position after a backend reconnect.
# Skips (77) without qemu, a guest kernel, hugetlbfs or vhostd.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

vdg_start reconnect python3

sock=$VDG_TMP/vm0.sock
tap=vdg${VDG_ID}t
{
	vdg_conf_eal
	vdg_conf_vm_tap "$sock" "$tap" mode=client reconnect-ms=100 tso=yes
} >"$VDG_TMP/vhostd.conf"

secs=40
t0=$SECONDS
# QEMU first: it owns the socket (and waits for vhostd before running the guest).
# shellcheck disable=SC2046
vdg_qemu g "quiet vd.ip=$VDG_NET.2/24 vd.peer=$VDG_NET.1 vd.test=link,pingwatch vd.secs=$secs \
vd.tcp=1 vd.maxgap=15 vd.tail=5 vd.timeout=240" $(vdg_vhu_args n0 "$sock" server "mac=$(vdg_mac 1)")
g=$VDG_PID
glog=$VDG_LOG
vdg_wait_path "$sock" 30 "$g" || { vdg_dump g; vdg_fail "QEMU did not create $sock"; }
vdg_vhostd d1 "$VDG_TMP/vhostd.conf"
vdg_tap_up "$tap" "$VDG_NET.1/24"
python3 "$VDG_DIR/vd_peer.py" --bind "$VDG_NET.1" --lifetime 600 >"$VDG_TMP/peer.log" 2>&1 &
vdg_track $!

vdg_expect g "$g" d1 '^VDTEST PING 3 ok' 150 "no traffic before the restart"
# Kill vhostd with no chance to clean up, as a crash would.
kill -KILL "$VDG_VHOSTD_PID"
vdg_wait_exit "$VDG_VHOSTD_PID" 10
vdg_log "vhostd killed at guest ping $(grep -a -c '^VDTEST PING' "$glog")"
sleep 2
vdg_vhostd d2 "$VDG_TMP/vhostd.conf"
vdg_tap_up "$tap" "$VDG_NET.1/24"
vdg_log "vhostd restarted"

vdg_wait_line "$glog" '^VDTEST (DONE|TIMEOUT)' $((secs + 120)) "$g" >/dev/null || true
rc=0
vdg_result "$glog" link || rc=1
vdg_result "$glog" pingwatch || rc=1
# The restart must have been visible to the guest: some ping was lost.
grep -q '^VDTEST RESULT pingwatch .* lost=0 ' "$glog" &&
	{ vdg_log "no ping lost: the restart did not happen under traffic"; rc=1; }
kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || { vdg_log "restarted vhostd died"; rc=1; }
if [ $rc -ne 0 ]; then
	vdg_dump g
	vdg_vhostd_log d1
	vdg_vhostd_log d2
	vdg_fail "pings did not resume after the vhostd restart"
fi
vdg_log "PASS (accel=$VDG_ACCEL, $((SECONDS - t0))s)"
