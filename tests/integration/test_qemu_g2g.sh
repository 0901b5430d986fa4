#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Two Linux guests linked through vhostd (two server-mode vhost-user ports, one
# [link]); both devices have host_mtu=9000 and the guests run MTU 9000, guest B
# without mergeable RX buffers (mrg_rxbuf=off, so its RX buffers are big
# descriptor chains). Asserts, from each guest's own kernel: pings both ways,
# 8000-byte pings both ways with no IP fragmentation, and a TCP upload from B to
# A whose SHA-256 A computes and B verifies.
# Skips (77) without qemu, a guest kernel, hugetlbfs or vhostd.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

vdg_start g2g

sa=$VDG_TMP/vm0.sock
sb=$VDG_TMP/vm1.sock
{
	vdg_conf_eal
	vdg_conf_vhu vm0 "$sa" mtu=9000
	vdg_conf_vhu vm1 "$sb" mtu=9000
	vdg_conf_link g2g vm0 vm1
} >"$VDG_TMP/vhostd.conf"
vdg_vhostd_serve d "$VDG_TMP/vhostd.conf" "$sa" "$sb"

a=$VDG_NET.1
b=$VDG_NET.2
common="quiet vd.mtu=9000 vd.hold=1 vd.timeout=240 vd.bytes=2000000"
t0=$SECONDS
# shellcheck disable=SC2046
vdg_qemu a "$common vd.ip=$a/24 vd.peer=$b vd.test=serve,jumbo" \
	$(vdg_vhu_args n0 "$sa" client "mac=$(vdg_mac 1)" host_mtu=9000)
pa=$VDG_PID
# shellcheck disable=SC2046
vdg_qemu b "$common vd.ip=$b/24 vd.peer=$a vd.test=link,jumbo,ping,tcp vd.retry=60" \
	$(vdg_vhu_args n0 "$sb" client "mac=$(vdg_mac 2)" host_mtu=9000 mrg_rxbuf=off)
pb=$VDG_PID
vdg_wait_line "$VDG_TMP/b.log" '^VDTEST (DONE|TIMEOUT)' 260 "$pb" >/dev/null || true
vdg_wait_line "$VDG_TMP/a.log" '^VDTEST (DONE|TIMEOUT)' 120 "$pa" >/dev/null || true
rc=0
for t in serve jumbo; do
	vdg_result "$VDG_TMP/a.log" "$t" || rc=1
done
for t in link jumbo ping tcp; do
	vdg_result "$VDG_TMP/b.log" "$t" || rc=1
done
# B really runs without MRG_RXBUF (bit 15) and with the MTU feature (bit 3).
f=$(vdg_features "$VDG_TMP/b.log")
[ "${f:15:1}" = 0 ] && [ "${f:3:1}" = 1 ] || { vdg_log "guest B features: $f"; rc=1; }
kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || { vdg_log "vhostd died"; rc=1; }
if [ $rc -ne 0 ]; then
	vdg_dump a
	vdg_dump b
	vdg_vhostd_log d
	vdg_fail "guest-to-guest checks failed"
fi
vdg_log "PASS (accel=$VDG_ACCEL, $((SECONDS - t0))s)"
