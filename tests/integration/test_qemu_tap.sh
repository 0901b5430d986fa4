#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A real Linux guest (QEMU 7.2, virtio-net-pci on -netdev vhost-user) talking to
# the host through vhostd and a TAP stand-in for the VF:
#  1. vhostd listens (server mode), QEMU dials it. The guest's own kernel pings
#     the host and moves TCP data both ways (SHA-256 checked on both ends) with
#     checksum offload and TSO negotiated (asserted from the guest's feature bits).
#  2. QEMU is killed (SIGKILL) and a new QEMU dials the same socket: vhostd must
#     drop the old device (unmap its guest memory) and serve the new one.
# Skips (77) without qemu, a guest kernel, hugetlbfs or vhostd.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

vdg_start tap python3

sock=$VDG_TMP/vm0.sock
tap=vdg${VDG_ID}t
{
	vdg_conf_eal
	vdg_conf_vm_tap "$sock" "$tap" mode=server tso=yes
} >"$VDG_TMP/vhostd.conf"
vdg_vhostd_serve d "$VDG_TMP/vhostd.conf" "$sock"
vdg_tap_up "$tap" "$VDG_NET.1/24"

vdg_peer 3000000 600

mac=$(vdg_mac 1)
common="quiet vd.ip=$VDG_NET.2/24 vd.peer=$VDG_NET.1 vd.rxsha=$VDG_RXSHA vd.rxbytes=3000000"
rc=0

# 1. First guest; it stays up after its checks so that we can kill it hard.
t0=$SECONDS
# shellcheck disable=SC2046
vdg_qemu g1 "$common vd.test=link,ping,tcp vd.bytes=3000000 vd.hold=1 vd.timeout=240" \
	$(vdg_vhu_args n0 "$sock" client "mac=$mac")
g1=$VDG_PID
vdg_expect g1 "$g1" d '^VDTEST UP' 120 "guest 1: eth0 never came up"
t_up=$((SECONDS - t0))
vdg_wait_line "$VDG_LOG" '^VDTEST (DONE|TIMEOUT)' 240 "$g1" >/dev/null || true
for t in link ping tcp; do
	vdg_result "$VDG_LOG" "$t" || rc=1
done
# Offloads: the guest negotiated VIRTIO_NET_F_CSUM (bit 0) and HOST_TSO4 (11),
# so its TCP segments left as up-to-64k TSO frames with partial checksums.
feat=$(vdg_features "$VDG_LOG")
if [ "${feat:0:1}" != 1 ] || [ "${feat:11:1}" != 1 ]; then
	vdg_log "guest did not negotiate CSUM/HOST_TSO4: features=$feat"
	rc=1
fi
up=$(sed -n 's/^VDTEST RESULT tcp PASS .* sha=\([0-9a-f]*\).*/\1/p' "$VDG_LOG")
grep -q "^sink 3000000 ${up:-none}\$" "$VDG_TMP/peer.log" || { vdg_log "host sink mismatch"; rc=1; }
[ "$(vdg_guest_maps "$VDG_VHOSTD_PID")" -ge 1 ] || { vdg_log "vhostd maps no guest memory"; rc=1; }
[ $rc -eq 0 ] || { vdg_dump g1; vdg_vhostd_log d; vdg_fail "guest 1 checks failed"; }

# 2. Kill QEMU without warning; vhostd must notice and release the device.
kill -KILL "$g1"
vdg_wait_exit "$g1" 10
i=0
while [ "$(vdg_guest_maps "$VDG_VHOSTD_PID")" -ne 0 ]; do
	i=$((i + 1))
	[ $i -le 50 ] || { vdg_vhostd_log d; vdg_fail "vhostd kept the dead guest's memory mapped"; }
	sleep 0.2
done
kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || vdg_fail "vhostd died with its guest"

# shellcheck disable=SC2046
vdg_qemu g2 "$common vd.test=ping,tcp vd.timeout=200" $(vdg_vhu_args n0 "$sock" client "mac=$mac")
g2=$VDG_PID
vdg_wait_line "$VDG_LOG" '^VDTEST (DONE|TIMEOUT)' 220 "$g2" >/dev/null || true
for t in ping tcp; do
	vdg_result "$VDG_LOG" "$t" || rc=1
done
[ "$(vdg_guest_maps "$VDG_VHOSTD_PID")" -le 1 ] || { vdg_log "vhostd still maps the old guest"; rc=1; }
vdg_wait_exit "$g2" 20 || true
kill -0 "$VDG_VHOSTD_PID" 2>/dev/null || { vdg_log "vhostd died"; rc=1; }
[ $rc -eq 0 ] || { vdg_dump g2; vdg_vhostd_log d; vdg_fail "guest 2 checks failed"; }
vdg_log "PASS (accel=$VDG_ACCEL, eth0 up ${t_up}s after QEMU start, total $((SECONDS - t0))s)"
