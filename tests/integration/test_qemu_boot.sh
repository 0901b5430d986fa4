#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The test guest itself, without vhostd: boot it under QEMU with a virtio-net-pci
# device on QEMU's user network (slirp: the host answers at 10.0.2.2 and
# forwards to its loopback, nothing else is reachable) and require that the
# guest loads its modules, brings eth0 up, pings the host and moves TCP data
# both ways with matching SHA-256 on both ends. This proves the image the
# vhost-user tests rely on; it skips (77) when qemu or the kernel is missing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/guest/guest-lib.sh"

vdg_init boot
command -v python3 >/dev/null || vdg_skip "python3 not installed"
vdg_build
vdg_accel

# Host end of the TCP check, on loopback ports the kernel picks for us.
read -r p_sink p_src < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
head -c 3000000 /dev/urandom >"$VDG_TMP/src.bin"
rxsha=$(sha256sum <"$VDG_TMP/src.bin" | cut -d' ' -f1)
python3 "$VDG_DIR/vd_peer.py" --bind 127.0.0.1 --sinkport "$p_sink" --srcport "$p_src" \
	--srcfile "$VDG_TMP/src.bin" --lifetime 600 >"$VDG_TMP/peer.log" 2>&1 &
vdg_track $!
vdg_wait_line "$VDG_TMP/peer.log" "listen .*:$p_src" 10 >/dev/null || vdg_fail "peer did not start"

dev="virtio-net-pci,netdev=n0,mac=$(vdg_mac 1)"
[ "$VDG_ACCEL" = tcg ] && dev="$dev,vectors=0"
t0=$SECONDS
vdg_qemu guest "quiet vd.test=link,ping,tcp vd.timeout=200 vd.ip=10.0.2.15/24 vd.peer=10.0.2.2 \
vd.sinkport=$p_sink vd.srcport=$p_src vd.bytes=2000000 vd.rxsha=$rxsha vd.rxbytes=3000000" \
	-netdev user,id=n0,net=10.0.2.0/24 -device "$dev"
vdg_wait_line "$VDG_LOG" '^VDTEST UP' 120 "$VDG_PID" >/dev/null || { vdg_dump guest; vdg_fail "eth0 never came up"; }
t_up=$((SECONDS - t0))
vdg_wait_line "$VDG_LOG" '^VDTEST (DONE|TIMEOUT)' 220 "$VDG_PID" >/dev/null || { vdg_dump guest; vdg_fail "guest did not finish"; }
vdg_wait_exit "$VDG_PID" 20 || vdg_fail "guest did not power off"

rc=0
for t in link ping tcp; do
	vdg_result "$VDG_LOG" "$t" || rc=1
done
# The guest's upload hash must also be what the host end computed.
up=$(sed -n 's/^VDTEST RESULT tcp PASS .* sha=\([0-9a-f]*\).*/\1/p' "$VDG_LOG")
grep -q "^sink 2000000 $up\$" "$VDG_TMP/peer.log" || { vdg_log "host sink saw: $(cat "$VDG_TMP/peer.log")"; rc=1; }
grep -q '^source 3000000$' "$VDG_TMP/peer.log" || rc=1
vdg_log "accel=$VDG_ACCEL eth0 up ${t_up}s after QEMU start (guest uptime $(vdg_up_time "$VDG_LOG")s), run $((SECONDS - t0))s"
[ $rc -eq 0 ] || { vdg_dump guest; vdg_fail "a check failed"; }
vdg_log "PASS"
